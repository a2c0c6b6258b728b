"""Predict and PredictStream: every framework and format, every image form, exact answers."""
import io

import numpy as np
import pytest
import tifffile
from PIL import Image

from bioclass.client import Prediction
from models import solid_image

MODELS = ["brightness-pytorch", "brightness-onnx", "brightness-keras", "brightness-keras-h5",
          "brightness-savedmodel"]


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("model", MODELS)
def test_every_framework_classifies_exactly(client, model):
    white = client.predict(png(solid_image(0.9)), model, name="white")
    black = client.predict(png(solid_image(0.1)), model, name="black")
    assert (white.label, black.label) == ("bright", "dark")
    assert white.name == "white" and white.model == model
    assert sum(white.probabilities) == pytest.approx(1, abs=1e-5)
    assert white.top[0].probability >= white.top[1].probability
    assert white.timings_ms["total"] > 0 and white.timings_ms["inference"] > 0


def test_state_dict_architecture_loads_and_answers(client):
    result = client.predict(png(solid_image(0.5)), "test-resnet-state-dict")
    assert len(result.probabilities) == 2 and sum(result.probabilities) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("array, axes", [
    (solid_image(0.8), "yxc"),
    (solid_image(0.8, dtype=np.uint16, channels=1), "yx"),
    (np.moveaxis(solid_image(0.8, dtype=np.float32), -1, 0), "cyx"),
    (solid_image(0.8, channels=1)[..., None].repeat(4, axis=2), "yxc"),
])
def test_raw_tensors_of_every_dtype_and_axes(client, array, axes):
    assert client.predict(array, "brightness-onnx", axes=axes).label == "bright"


def test_16bit_and_multipage_tiff(client, tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.stack([solid_image(0.1, dtype=np.uint16, channels=1),
                                     solid_image(0.9, dtype=np.uint16, channels=1)]))
    assert client.predict(path, "brightness-pytorch", page=0).label == "dark"
    assert client.predict(path, "brightness-pytorch", page=1).label == "bright"


def test_top_k_is_capped_and_ordered(client):
    result = client.predict(solid_image(0.9), "brightness-onnx", top_k=10)
    assert [s.label for s in result.top] == ["bright", "dark"]
    assert len(client.predict(solid_image(0.9), "brightness-onnx", top_k=1).top) == 1


def test_large_single_image_over_4mb(client):
    big = solid_image(0.9, size=1600)  # 7.7 MB raw tensor, above gRPC's default 4 MB
    assert client.predict(big, "brightness-onnx").label == "bright"


def test_stream_keeps_order_reports_bad_items_and_passes_4mb(client):
    images = [(png(solid_image(0.9 if i % 3 else 0.1, size=400)), f"img{i}") for i in range(60)]
    images.insert(7, (b"garbage", "broken"))
    results = list(client.predict_many(images, "brightness-onnx", top_k=1))
    assert len(results) == 61
    assert [r.name for r in results] == [name for _, name in images]
    broken = results[7]
    assert isinstance(broken, Prediction) and broken.error_code == "INVALID_ARGUMENT" and not broken.top
    good = [r for r in results if not r.error]
    assert [r.label for r in good] == ["bright" if int(r.name[3:]) % 3 else "dark" for r in good]


def test_stream_of_many_small_images(client):
    count = 500
    results = list(client.predict_many((solid_image(0.9 if i % 2 else 0.1) for i in range(count)),
                                       "brightness-onnx", top_k=1))
    assert [r.label for r in results] == ["bright" if i % 2 else "dark" for i in range(count)]
