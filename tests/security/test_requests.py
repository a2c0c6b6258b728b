"""Requests past the server's bounds, hostile regexes and big folders, and the malformed inputs that
used to crash a handler or get a wrong answer: each refused at once with a precise status."""
import io
import json
import time
import zipfile

import numpy as np
import pytest
import tifffile
import tritonclient.grpc as tg
from PIL import Image
from tritonclient.utils import InferenceServerException

from bioclass.client import Client
from bioclass.errors import InvalidArgument, NotFound, ResourceExhausted
from bioclass.py4j_gateway import GatewayEntryPoint
from security_support import answered_promptly, health_watch
import models
from models import solid_image
from server_process import ServerProcess

BOUNDS = {"BIOCLASS_MAX_TOP_K": "5", "BIOCLASS_MAX_STREAM_IMAGES": "3", "BIOCLASS_MAX_TRAIN_EPOCHS": "5",
          "BIOCLASS_MAX_AUTOML_MINUTES": "10", "BIOCLASS_MAX_REGEX_LENGTH": "40",
          "BIOCLASS_MAX_OCCLUSION_WINDOWS": "100", "BIOCLASS_MAX_CARD_QUEUE_SIZE": "100",
          "BIOCLASS_QUEUE_SIZE": "4", "BIOCLASS_MAX_PIXELS": "10000", "BIOCLASS_INFERENCE_THREADS": "1"}
REDOS = r"^(\w+\s?)*$"  # backtracking engines take exponential time on "aaaa…a!"


def bound(what: str, value, limit, setting: str) -> str:
    return f"{what} is {value}, above the server's bound of {limit} (setting {setting}, BIOCLASS_{setting.upper()})"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    for label, value in (("bright", 0.9), ("dark", 0.1)):
        (root / "cells" / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(solid_image(value)).save(root / "cells" / label / f"{'a' * 60}{i}!.png")
    return root


@pytest.fixture(scope="module")
def bounded(test_zoo, data_root, tmp_path_factory):
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--data-root", str(data_root),
                            work_dir=tmp_path_factory.mktemp("bounded"), env=BOUNDS)
    yield process
    process.stop()


@pytest.fixture
def client(bounded):
    with Client(bounded.address) as c:
        yield c


def card_for(test_zoo, model_id: str) -> str:
    return (test_zoo / "brightness-onnx" / "card.yaml").read_text().replace("brightness-onnx", model_id)


# ---- bounds ---------------------------------------------------------------------------------

def test_top_k_and_stream_lengths_are_bounded(client, data_root):
    with pytest.raises(InvalidArgument) as top_k:
        client.predict(solid_image(0.9), "brightness-onnx", top_k=6)
    assert top_k.value.message == bound("top_k", 6, 5, "max_top_k")
    assert client.predict(solid_image(0.9), "brightness-onnx", top_k=5).label == "bright"
    answers = client.predict_many([solid_image(0.9)] * 4, "brightness-onnx")
    with pytest.raises(InvalidArgument) as stream:
        list(answers)
    assert stream.value.message == bound("the number of images in the stream", 4, 3, "max_stream_images")
    with pytest.raises(InvalidArgument) as evaluate:  # 6 images streamed from here
        client.evaluate(data_root / "cells", ["brightness-onnx"])
    assert evaluate.value.message == bound("the number of images in the stream", 4, 3, "max_stream_images")


def test_occlusion_windows_and_oip_streams_are_bounded(bounded, client):
    with pytest.raises(InvalidArgument) as occlusion:  # every window is a forward pass
        client.explain(solid_image(0.9), "brightness-onnx", method="occlusion", window=1, stride=1)
    windows = models.SIZE * models.SIZE
    assert occlusion.value.message == bound("the number of occlusion windows (window 1, stride 1)", windows, 100,
                                            "max_occlusion_windows")
    explained = client.explain(solid_image(0.9), "brightness-onnx", method="occlusion", window=8, stride=8)
    assert explained.saliency.ndim == 2  # 4 windows: within the bound (and the fixture's queue of 4)
    triton = tg.InferenceServerClient(bounded.address)
    answers: list = []
    triton.start_stream(callback=lambda result, error: answers.append(error or result))
    try:
        image = tg.InferInput("image", [1, 8, 8, 3], "UINT8")
        image.set_data_from_numpy(np.full((1, 8, 8, 3), 230, np.uint8))
        for _ in range(4):
            triton.async_stream_infer("brightness-onnx", [image])
    finally:
        triton.stop_stream()
        triton.close()
    assert [isinstance(a, InferenceServerException) for a in answers] == [False, False, False, True]
    assert bound("the number of images in the stream", 4, 3, "max_stream_images") in answers[-1].message()


def test_training_and_automl_numbers_are_bounded(client, data_root):
    with pytest.raises(InvalidArgument) as epochs:
        client.training.train(data_root / "cells", "resnet18", on_server=True, epochs=6)
    assert epochs.value.message == bound("epochs", 6, 5, "max_train_epochs")
    with pytest.raises(InvalidArgument) as pattern:
        client.training.train(data_root / "cells", "resnet18", on_server=True, epochs=1, group_pattern="(" + "a" * 40 + ")")
    assert pattern.value.message == bound("the length of group_pattern", 42, 40, "max_regex_length")
    with pytest.raises(InvalidArgument) as budget:
        client.automl.start(data_root / "cells", 11.0, on_server=True)
    assert budget.value.message == bound("budget_minutes", 11.0, 10.0, "max_automl_minutes")


def test_an_uploaded_cards_serving_numbers_are_bounded(client, test_zoo):
    card = card_for(test_zoo, "greedy") + "serving:\n  queue_size: 1000\n"
    with pytest.raises(InvalidArgument) as refused:
        client.register_model(card, test_zoo / "brightness-onnx" / "model.onnx")
    assert refused.value.message == bound("serving.queue_size", 1000, 100, "max_card_queue_size")
    assert "greedy" not in {m.id for m in client.models()}


# ---- regexes and folder walks off the event loop ----------------------------------------------

def test_a_catastrophic_regex_runs_in_linear_time_while_health_answers(bounded, client, data_root):
    with health_watch(bounded.address) as latencies:
        started = time.monotonic()
        with pytest.raises(NotFound) as refused:  # the regex runs over every file name, then the arch check
            client.training.train(data_root / "cells", "no_such_net", on_server=True, epochs=1, group_pattern=REDOS)
        took = time.monotonic() - started
    assert "no_such_net" in refused.value.message and took < 60
    assert answered_promptly(latencies), sorted(latencies)[-5:]


def test_group_patterns_re2_cannot_run_are_refused(client, data_root):
    with pytest.raises(InvalidArgument) as refused:
        client.training.train(data_root / "cells", "resnet18", on_server=True, epochs=1, group_pattern=r"(a)\1")
    assert refused.value.message == ("invalid dataset: dataset: Value error, group_pattern is not a regular "
                                     "expression RE2 accepts: invalid escape sequence: \\1")


def test_a_big_server_folder_is_walked_while_health_answers(bounded, client, data_root):
    big = data_root / "big"
    for label in ("bright", "dark"):
        (big / label).mkdir(parents=True)
        Image.fromarray(solid_image(0.9 if label == "bright" else 0.1)).save(big / label / "0.png")
        for i in range(15_000):
            (big / label / f"note-{i}.txt").touch()
    client.predict(solid_image(0.9), "brightness-onnx")  # the model's process is up: only the walk is measured
    with health_watch(bounded.address) as latencies:
        report = client.evaluate(big, ["brightness-onnx"], on_server=True)
    assert report.evaluations[0].accuracy == 1.0
    assert answered_promptly(latencies), sorted(latencies)[-5:]


# ---- malformed inputs (issue 16, items 6 and 8) -------------------------------------------------

def test_a_tiff_with_17_samples_per_pixel_is_refused_before_decoding(client):
    for shape in ((200, 100, 17), (17, 200, 100)):
        data = io.BytesIO()
        tifffile.imwrite(data, np.zeros(shape, np.uint8), photometric="minisblack",
                         planarconfig="contig" if shape[-1] == 17 else "separate")
        with pytest.raises(InvalidArgument) as refused:
            client.predict(data.getvalue(), "brightness-onnx")
        assert refused.value.message == (f"TIFF page of shape {list(shape)}: at most 16 samples per pixel "
                                         "are supported")
    data = io.BytesIO()
    tifffile.imwrite(data, np.zeros((200, 100, 3), np.uint8), photometric="rgb")
    with pytest.raises(ResourceExhausted, match="image of 100x200 pixels exceeds the server limit of 10000"):
        client.predict(data.getvalue(), "brightness-onnx")


def test_a_zip_holding_a_file_and_a_folder_of_one_name_is_invalid(client, tmp_path):
    for order in (("ds/c", "ds/c/x.png"), ("ds/c/x.png", "ds/c")):
        with zipfile.ZipFile(tmp_path / "clash.zip", "w") as bundle:
            for name in order:
                bundle.writestr(name, b"x")
        with pytest.raises(InvalidArgument, match=r"^unusable zip archive: ds/c: (File exists|Not a directory|Is a "
                                                  r"directory) \(a file and a folder of one name, or a name too long\)$"):
            client.training.upload_dataset(tmp_path / "clash.zip")


@pytest.mark.parametrize("weights", ["model\0.onnx", "w" * 10_000 + ".onnx", "bell\a.onnx"])
def test_weights_names_with_nul_or_10kb_are_invalid(client, test_zoo, weights):
    card = card_for(test_zoo, "odd-name").replace("weights: model.onnx", f"weights: {json.dumps(weights)}")
    with pytest.raises(InvalidArgument, match="weights must be a printable name of at most 255 bytes"):
        client.register_model(card, test_zoo / "brightness-onnx" / "model.onnx")


def triton_status(bounded, name: str, array: np.ndarray, datatype: str) -> tuple[str, str]:
    triton = tg.InferenceServerClient(bounded.address)
    tensor = tg.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    try:
        with pytest.raises(InferenceServerException) as error:
            triton.infer("brightness-onnx", [tensor])
        return error.value.status(), error.value.message()
    finally:
        triton.close()


def test_nan_network_inputs_are_invalid_not_labelled(bounded):
    array = np.full((1, 3, 16, 16), np.nan, np.float32)
    assert triton_status(bounded, "input", array, "FP32") == (
        "StatusCode.INVALID_ARGUMENT", "input 'input' contains NaN or infinite values")


def test_a_batch_larger_than_the_queue_says_it_can_never_fit(bounded):
    images = np.stack([solid_image(0.5)] * 5)
    assert triton_status(bounded, "image", images, "UINT8") == (
        "StatusCode.INVALID_ARGUMENT",
        "a batch of 5 images can never fit the model's queue of 4 images; send at most 4 per request")


def test_the_py4j_gateway_answers_one_line_never_a_traceback(bounded):
    with Client(bounded.address) as client:
        gateway = GatewayEntryPoint(client)
        assert json.loads(gateway.trainServerFolder("/anywhere", "[]")) == {
            "error": {"code": "INVALID_ARGUMENT", "message": "settings must be a JSON object",
                      "text": "Settings must be a JSON object."}}
        refused = json.loads(gateway.trainServerFolder("/etc", '{"arch": "resnet18", "epochs": 1}'))["error"]
        assert {key: refused[key] for key in ("code", "message")} == {
            "code": "PERMISSION_DENIED",
            "message": f"dataset server_dir: the server reads only absolute paths under its data roots "
                       f"({_root(bounded)})"}


def _root(server) -> str:
    return server.process.args[server.process.args.index("--data-root") + 1]
