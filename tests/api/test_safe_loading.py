"""Uploaded models never run code or read files outside their folder."""
import pickle
import subprocess
import sys
import textwrap

import pytest

from bioclass.errors import FailedPrecondition


def card(model_id: str, framework: str, weights: str, extra: str = "", axes: str = "bchw") -> str:
    return textwrap.dedent(f"""\
        id: {model_id}
        framework: {framework}
        weights: {weights}
        input: {{axes: {axes}, channels: 3, size: [16, 16]}}
        output: {{labels: [bright, dark]}}
        """) + extra


class RunsCode:
    """Unpickling this would run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_pickled_code_in_a_state_dict_is_refused(client, tmp_path):
    marker = tmp_path / "pwned"
    weights = tmp_path / "weights.pth"
    weights.write_bytes(pickle.dumps({"fc.weight": RunsCode(marker)}))
    with pytest.raises(FailedPrecondition, match="cannot be loaded"):
        client.register_model(card("evil-pickle", "pytorch", "weights.pth", "architecture: timm:test_resnet\n"),
                              weights)
    assert not marker.exists()


def test_onnx_external_data_outside_the_folder_is_refused(client, tmp_path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.zeros(6, np.float32).tobytes())
    weight = numpy_helper.from_array(np.zeros((3, 2), np.float32), "w")
    onnx.external_data_helper.set_external_data(weight, location="../../../../../../" + str(secret).lstrip("/"))
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["input"], ["pooled"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["pooled", "w"], ["logits"])], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 2])], [weight])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(FailedPrecondition, match="outside the model's folder"):
        client.register_model(card("evil-onnx", "onnx", "model.onnx"), path)


KERAS_LAMBDA = """
import os, sys
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
inputs = keras.Input((16, 16, 3))
x = keras.layers.Lambda(lambda t: t * 2)(inputs)
x = keras.layers.GlobalAveragePooling2D()(x)
keras.Model(inputs, keras.layers.Dense(2)(x)).save(sys.argv[1])
"""


def test_keras_lambda_layers_are_refused(client, tmp_path):
    path = tmp_path / "model.keras"
    subprocess.run([sys.executable, "-c", KERAS_LAMBDA, str(path)], check=True, capture_output=True, timeout=120)
    with pytest.raises(FailedPrecondition, match="cannot be loaded"):
        client.register_model(card("evil-lambda", "keras", "model.keras", axes="bhwc"), path)
