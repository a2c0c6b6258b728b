"""Every bad request gets a precise status and a one-line message; the server keeps serving."""
import io

import grpc
import numpy as np
import pytest
from PIL import Image

from bioclass.errors import FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from bioclass.v1 import classifier_pb2 as pb
from bioclass.v1 import classifier_pb2_grpc
from bioclass.v1 import image_pb2
from models import solid_image


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_unknown_model_is_not_found(client):
    with pytest.raises(NotFound, match="unknown model 'missing'.*brightness-onnx"):
        client.predict(solid_image(0.5), "missing")


@pytest.mark.parametrize("image, message", [
    (b"definitely not an image", "cannot decode"),
    (png(solid_image(0.5))[:40], "cannot decode"),
    (np.zeros((8, 8, 5), np.uint8), "expects 3-channel"),
    (np.zeros((8, 8, 2), np.uint8), "got an image with 2 channels"),
    (np.full((8, 8), np.inf, np.float32), "NaN or infinite"),
])
def test_bad_images_are_invalid_argument(client, image, message):
    with pytest.raises(InvalidArgument, match=message):
        client.predict(image, "brightness-onnx")


def test_wrong_axes_and_shape_in_raw_requests(server):
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        for tensor in (image_pb2.Tensor(dtype=image_pb2.UINT8, shape=[4, 4], axes="yxc", data=b"\0" * 16),
                       image_pb2.Tensor(dtype=image_pb2.FLOAT32, shape=[4, 4], data=b"\0" * 16),
                       image_pb2.Tensor(dtype=99, shape=[4, 4], data=b"\0" * 16)):
            with pytest.raises(grpc.RpcError) as error:
                stub.Predict(pb.PredictRequest(model_id="brightness-onnx", image=image_pb2.Image(tensor=tensor)),
                             timeout=10)
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "\n" not in error.value.details() and "Traceback" not in error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            stub.Predict(pb.PredictRequest(model_id="brightness-onnx"), timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_pixel_limit_is_resource_exhausted(client):
    huge = png(np.zeros((7100, 7100), np.uint8))  # 50.4 Mpx, over the default 50 Mpx limit
    with pytest.raises(ResourceExhausted, match="7100x7100 pixels exceeds the server limit"):
        client.predict(huge, "brightness-onnx")


def test_model_that_cannot_load_is_failed_precondition(client):
    with pytest.raises(FailedPrecondition, match="corrupt-weights cannot be loaded"):
        client.predict(solid_image(0.5), "corrupt-weights")
    states = {m.id: (m.state, m.error) for m in client.models()}
    assert states["corrupt-weights"][0] == pb.FAILED and states["corrupt-weights"][1]
    assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"


def test_server_keeps_serving_after_every_error(server, client):
    for bad in (b"x", np.zeros((3, 3, 7), np.uint8)):
        with pytest.raises(InvalidArgument):
            client.predict(bad, "brightness-pytorch")
    assert server.alive()
    assert client.predict(solid_image(0.1), "brightness-pytorch").label == "dark"
    assert "Traceback" not in server.log
