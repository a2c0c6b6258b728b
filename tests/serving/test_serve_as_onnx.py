"""`serve_as: onnx`: PyTorch converted at load and checked; a failed conversion falls back, logged."""
import time

import numpy as np
import tritonclient.grpc as tg

from models import solid_image


def labels(triton, model: str) -> list[str]:
    batch = np.stack([solid_image(0.9, 24), solid_image(0.1, 24)])
    tensor = tg.InferInput("image", list(batch.shape), "UINT8")
    tensor.set_data_from_numpy(batch)
    return [x.decode() for x in triton.infer(model, [tensor]).as_numpy("label")]


def wait_for_log(server, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = next((line for line in server.log_lines if text in line), None)
        if line:
            return line
        time.sleep(0.1)
    raise AssertionError(f"no log line with {text!r}:\n{server.log[-3000:]}")


def test_a_pytorch_model_is_served_through_onnx_runtime(serving_server, triton):
    assert labels(triton, "pytorch-as-onnx") == ["bright", "dark"]
    line = wait_for_log(serving_server, "loaded pytorch-as-onnx")
    assert "serving through ONNX Runtime" in line


def test_a_model_that_cannot_be_converted_keeps_its_framework_and_says_why(serving_server, triton):
    assert labels(triton, "keras-as-onnx") == ["bright", "dark"]
    line = wait_for_log(serving_server, "loaded keras-as-onnx")
    assert "serve_as onnx failed, serving with keras" in line
