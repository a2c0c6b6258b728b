"""ModelInfer and ModelStreamInfer through tritonclient: both input forms, exact answers, exact errors."""
import queue

import grpc
import numpy as np
import pytest
import tritonclient.grpc as tg
from tritonclient.utils import InferenceServerException

from models import solid_image


def infer_input(name: str, array: np.ndarray, datatype: str) -> tg.InferInput:
    tensor = tg.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


def images(*values: float, size: int = 20, dtype=np.uint8) -> np.ndarray:
    return np.stack([solid_image(v, size, dtype) for v in values])


def labels(result) -> list[str]:
    return [label.decode() for label in result.as_numpy("label")]


@pytest.mark.parametrize("dtype, datatype", [(np.uint8, "UINT8"), (np.uint16, "UINT16"), (np.float32, "FP32")])
def test_raw_images_of_any_size_are_preprocessed_per_card(triton, dtype, datatype):
    result = triton.infer("brightness-onnx", [infer_input("image", images(0.9, 0.1, size=37, dtype=dtype), datatype)])
    assert labels(result) == ["bright", "dark"]
    probabilities = result.as_numpy("probabilities")
    assert probabilities.dtype == np.float32 and probabilities.shape == (2, 2)
    assert probabilities.sum(axis=1) == pytest.approx([1, 1], abs=1e-5)
    assert result.get_response().model_version == "1"


@pytest.mark.parametrize("model, shape", [("brightness-onnx", (3, 16, 16)), ("brightness-pytorch", (3, 16, 16)),
                                          ("brightness-keras", (16, 16, 3))])
def test_the_networks_own_tensor_is_accepted_as_metadata_describes(triton, model, shape):
    network_input = next(i for i in triton.get_model_metadata(model).inputs if i.name != "image")
    assert list(network_input.shape) == [-1, *shape] and network_input.datatype == "FP32"
    batch = np.stack([np.full(shape, 0.8, np.float32), np.full(shape, 0.2, np.float32)])
    result = triton.infer(model, [infer_input(network_input.name, batch, "FP32")])
    assert labels(result) == ["bright", "dark"]


def test_only_the_requested_outputs_come_back(triton):
    result = triton.infer("brightness-onnx", [infer_input("image", images(0.9), "UINT8")],
                          outputs=[tg.InferRequestedOutput("label")], request_id="req-7")
    response = result.get_response()
    assert [o.name for o in response.outputs] == ["label"] and response.id == "req-7"
    assert len(response.raw_output_contents) == 1 and labels(result) == ["bright"]


def status_of(call) -> grpc.StatusCode:
    with pytest.raises(InferenceServerException) as error:
        call()
    return error.value.status()


def test_unknown_model_is_not_found(triton):
    assert status_of(lambda: triton.infer("no-such-model", [infer_input("image", images(0.5), "UINT8")])) \
        == "StatusCode.NOT_FOUND"


@pytest.mark.parametrize("tensor", [
    lambda: infer_input("image", images(0.5).astype(np.int32), "INT32"),                 # image datatype
    lambda: infer_input("image", np.zeros((2, 16, 16), np.uint8), "UINT8"),              # no channel axis
    lambda: infer_input("input", np.zeros((1, 3, 8, 8), np.float32), "FP32"),            # wrong size
    lambda: infer_input("input", np.zeros((1, 3, 16, 16), np.float64), "FP64"),          # wrong datatype
    lambda: infer_input("logits", np.zeros((1, 3, 16, 16), np.float32), "FP32"),         # unknown input
])
def test_bad_inputs_are_invalid_arguments(triton, tensor):
    assert status_of(lambda: triton.infer("brightness-onnx", [tensor()])) == "StatusCode.INVALID_ARGUMENT"


def test_contents_that_do_not_fill_the_shape_are_invalid(triton):
    tensor = tg.InferInput("image", [1, 16, 16, 3], "UINT8")
    tensor.set_data_from_numpy(np.zeros((1, 16, 16, 3), np.uint8))
    tensor.set_shape([2, 16, 16, 3])
    assert status_of(lambda: triton.infer("brightness-onnx", [tensor])) == "StatusCode.INVALID_ARGUMENT"


def test_two_inputs_and_unknown_outputs_are_invalid(triton):
    both = [infer_input("image", images(0.5), "UINT8"), infer_input("input", np.zeros((1, 3, 16, 16), np.float32), "FP32")]
    assert status_of(lambda: triton.infer("brightness-onnx", both)) == "StatusCode.INVALID_ARGUMENT"
    assert status_of(lambda: triton.infer("brightness-onnx", [infer_input("image", images(0.5), "UINT8")],
                                          outputs=[tg.InferRequestedOutput("logits")])) == "StatusCode.INVALID_ARGUMENT"


def test_a_model_that_cannot_load_fails_precondition(triton):
    assert status_of(lambda: triton.infer("corrupt-weights", [infer_input("image", images(0.5), "UINT8")])) \
        == "StatusCode.FAILED_PRECONDITION"
    assert not triton.is_model_ready("corrupt-weights")


def test_stream_answers_every_request_and_reports_errors_in_the_stream(triton):
    answers: queue.Queue = queue.Queue()
    triton.start_stream(callback=lambda result, error: answers.put((result, error)))
    try:
        for index, value in enumerate([0.9, 0.1, 0.8]):
            triton.async_stream_infer("brightness-onnx", [infer_input("image", images(value), "UINT8")],
                                      request_id=str(index))
        triton.async_stream_infer("no-such-model", [infer_input("image", images(0.5), "UINT8")], request_id="bad")
        received = [answers.get(timeout=30) for _ in range(4)]
    finally:
        triton.stop_stream()
    results = {r.get_response().id: labels(r)[0] for r, e in received if e is None}
    errors = [str(e) for r, e in received if e is not None]
    assert results == {"0": "bright", "1": "dark", "2": "bright"}
    assert len(errors) == 1 and "NOT_FOUND" in errors[0]
