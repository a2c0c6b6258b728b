"""Property-based bad input over every Classifier RPC: a precise status and message, never INTERNAL,
and the server keeps serving. The number of cases run is printed (pytest -s) and asserted."""
import io

import grpc
import numpy as np
import pytest
import tifffile
from fuzz_support import REQUEST_ERRORS, CaseChecker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bioclass.v1 import classifier_pb2 as pb
from bioclass.v1 import classifier_pb2_grpc
from bioclass.v1 import image_pb2
from models import solid_image

MODELS = ["brightness-onnx", "brightness-pytorch", "corrupt-weights", "", "no-such-model", "../etc"]
check = CaseChecker()


def encoded(array: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "TIFF":
        tifffile.imwrite(buffer, array)
    else:
        Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


VALID_FILES = [encoded(solid_image(0.7, size=24), fmt) for fmt in ("PNG", "JPEG", "BMP", "TIFF")] + \
              [encoded(solid_image(0.7, size=24, dtype=np.uint16, channels=1), "TIFF")]


@st.composite
def corrupt_files(draw):
    data = bytearray(draw(st.sampled_from(VALID_FILES)))
    how = draw(st.sampled_from(["truncate", "flip", "header-only"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    return bytes(data[:64])


tensors = st.builds(
    lambda dtype, shape, axes, data: image_pb2.Tensor(dtype=dtype, shape=shape, axes=axes, data=data),
    dtype=st.integers(0, 7),
    shape=st.lists(st.sampled_from([0, 1, 3, 4, 5, 16, 70000, 2**31]), max_size=5),
    axes=st.sampled_from(["", "yx", "yxc", "cyx", "xy", "zyx", "bad"]),
    data=st.binary(max_size=2048) | st.sampled_from([np.full(48, np.nan, np.float32).tobytes(),
                                                     np.full(16 * 16 * 3, np.inf, np.float32).tobytes()]),
)
images = st.one_of(
    st.builds(lambda data, page: image_pb2.Image(encoded=image_pb2.EncodedImage(data=data, page=page)),
              st.one_of(corrupt_files(), st.binary(max_size=300)), st.integers(0, 5)),
    st.builds(lambda t: image_pb2.Image(tensor=t), tensors),
    st.just(image_pb2.Image()),
)
predict_requests = st.builds(lambda m, i, k: pb.PredictRequest(model_id=m, image=i, top_k=k),
                             st.sampled_from(MODELS) | st.text(max_size=20), images, st.integers(0, 2**32 - 1))


@pytest.fixture(scope="module")
def stub(server):
    with grpc.insecure_channel(server.address) as channel:
        yield classifier_pb2_grpc.ClassifierStub(channel)



FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(request=predict_requests)
def test_predict(stub, request):
    check(lambda: stub.Predict(request, timeout=30))


@FUZZ
@given(requests=st.lists(predict_requests, max_size=6))
def test_predict_stream(stub, requests):
    def call():
        for response in stub.PredictStream(iter(requests), timeout=30):
            if response.WhichOneof("result") == "error":
                assert response.error.code in {c.name for c in REQUEST_ERRORS} and response.error.message
    check(call)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(models=st.lists(st.sampled_from(MODELS), max_size=3), top_k=st.integers(0, 2**32 - 1),
       dataset_dir=st.sampled_from(["", "/nonexistent", "/etc", "relative/dir"]),
       samples=st.lists(st.builds(lambda i, label: pb.LabelledImage(image=i, label=label), images,
                                  st.sampled_from(["bright", "dark", "DARK", "purple", ""])), max_size=4),
       first_is_config=st.booleans())
def test_evaluate(stub, models, top_k, dataset_dir, samples, first_is_config):
    config = pb.EvaluateRequest(config=pb.EvaluateConfig(model_ids=models, top_k=top_k, dataset_dir=dataset_dir))
    items = [pb.EvaluateRequest(sample=s) for s in samples]
    requests = [config, *items] if first_is_config else items
    check(lambda: stub.Evaluate(iter(requests), timeout=60))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(card=st.sampled_from(["", "id: [", "- list", "id: ok-id\nframework: onnx\nweights: m.onnx\n",
                             "id: fuzz-model\nframework: onnx\nweights: ../m.onnx\ninput: {size: [4, 4]}\n"
                             "output: {labels: [a, b]}\n",
                             "id: fuzz-model\nframework: onnx\nweights: m.onnx\ninput: {size: [4, 4]}\n"
                             "output: {labels: [a, b]}\n"]) | st.text(max_size=200),
       chunks=st.lists(st.binary(max_size=200), max_size=3), sha=st.sampled_from(["", "0" * 64, "xyz"]),
       header_first=st.booleans())
def test_register_model(stub, card, chunks, sha, header_first):
    header = pb.RegisterModelRequest(header=pb.RegisterModelHeader(card_yaml=card, sha256=sha))
    body = [pb.RegisterModelRequest(chunk=c) for c in chunks]
    check(lambda: stub.RegisterModel(iter([header, *body] if header_first else body), timeout=30))


tile_options = st.builds(
    lambda size, stride, region, aggregation, top_k, skip: pb.TileOptions(
        tile_size=size, stride=stride, region=region, aggregation=aggregation, top_k=top_k, skip_background=skip),
    st.sampled_from([0, 1, 8, 16, 5000, 2**32 - 1]), st.sampled_from([0, 1, 7, 16, 2**32 - 1]),
    st.none() | st.builds(pb.Region, y=st.integers(0, 40), x=st.integers(0, 40), height=st.integers(0, 2**32 - 1),
                          width=st.integers(0, 40)),
    st.integers(0, 5), st.integers(0, 2**32 - 1),
    st.none() | st.builds(pb.BackgroundSkip, level=st.floats(allow_nan=True), dark_background=st.booleans(),
                          min_foreground=st.floats(allow_nan=True)))
tile_sources = st.one_of(
    st.builds(lambda i: {"image": i}, images),
    st.builds(lambda p: {"server_path": p}, st.sampled_from(["/etc/passwd", "relative.tif", "/nonexistent/x.tif",
                                                             "/tmp\0x"]) | st.text(max_size=30)),
    st.builds(lambda size, sha: {"upload": pb.FileUpload(size=size, sha256=sha)}, st.integers(0, 2**64 - 1),
              st.sampled_from(["", "0" * 64, "xyz"])),
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_id=st.sampled_from(MODELS), source=tile_sources, options=tile_options,
       chunks=st.lists(st.one_of(corrupt_files(), st.binary(max_size=300)), max_size=2),
       series=st.integers(0, 3), level=st.integers(0, 3), header_first=st.booleans())
def test_predict_tiles(stub, model_id, source, options, chunks, series, level, header_first):
    header = pb.PredictTilesRequest(header=pb.PredictTilesHeader(model_id=model_id, options=options, series=series,
                                                                 level=level, **source))
    body = [pb.PredictTilesRequest(chunk=c) for c in chunks]
    check(lambda: list(stub.PredictTiles(iter([header, *body] if header_first else body), timeout=30)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_id=st.text(max_size=80), framework=st.text(max_size=10), tags=st.lists(st.text(max_size=10), max_size=3))
def test_catalogue(stub, model_id, framework, tags):
    check(lambda: stub.GetModel(pb.GetModelRequest(model_id=model_id), timeout=10))
    check(lambda: stub.ListModels(pb.ListModelsRequest(framework=framework, tags=tags), timeout=10))


def test_server_still_serves_after_fuzzing(server, client):
    assert server.alive()
    assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
    assert "Traceback" not in server.log
    print(f"\nfuzz cases run against the Classifier API: {check.count}")
    assert check.count >= 400
