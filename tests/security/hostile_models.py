"""Hostile models, one folder each (card.yaml and weights), built as a script so the test process never
imports torch and TensorFlow together. Run: python hostile_models.py ZOO OUTSIDE_DIR.

Each is shaped like the brightness model (16x16 RGB in, two labels out) so that only what it does
wrong can fail it.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import SIZE, torch_brightness, write_card  # noqa: E402


def torchscript_reading(zoo: Path, shared: bool) -> Path:
    """forward returns the first bytes of /etc/passwd as its two "logits" (the issue's attack)."""
    import torch

    class Reader(torch.nn.Module):
        def __init__(self, shared: bool):
            super().__init__()
            self.shared = shared

        def forward(self, x):
            leaked = torch.from_file("/etc/passwd", self.shared, 2, dtype=torch.uint8).float()
            return leaked.unsqueeze(0).expand(x.shape[0], 2)

    model_id = f"reads-passwd-{'shared' if shared else 'private'}"
    folder = write_card(zoo / model_id, model_id, "pytorch", "model.pt", format="torchscript")
    torch.jit.script(Reader(shared)).save(str(folder / "model.pt"))
    return folder


def torchscript_writing(zoo: Path, target: Path) -> Path:
    """forward creates `target` (torch.from_file with shared=True creates a missing file), then answers."""
    import torch

    class Writer(torch.nn.Module):
        def __init__(self, target: str):
            super().__init__()
            self.target = target
            self.inner = torch_brightness()

        def forward(self, x):
            planted = torch.from_file(self.target, True, 16, dtype=torch.uint8)
            planted.fill_(65)
            return self.inner(x) + 0.0 * planted.sum().float()  # used, so the compiler keeps the call

    folder = write_card(zoo / "writes-outside", "writes-outside", "pytorch", "model.pt", format="torchscript")
    torch.jit.script(Writer(str(target))).save(str(folder / "model.pt"))
    return folder


def torchscript_hogging_memory(zoo: Path) -> Path:
    """forward asks for 16 GiB (more than the tests' model_memory_mb) when every pixel is white."""
    import torch

    class Hog(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = torch_brightness()

        def forward(self, x):
            if bool(x.min() > 0.99):  # not the warm-up pass on zeros: the model must register first
                hog = torch.ones(4294967296, dtype=torch.float32)  # 16 GiB
                return self.inner(x) + hog[0]
            return self.inner(x)

    folder = write_card(zoo / "hogs-memory", "hogs-memory", "pytorch", "model.pt", format="torchscript")
    torch.jit.script(Hog()).save(str(folder / "model.pt"))
    return folder


def torchscript_spinning(zoo: Path) -> Path:
    """forward loops for hours when every pixel is white (the warm-up pass on zeros answers at once)."""
    import torch

    class Spinner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = torch_brightness()

        def forward(self, x):
            y = self.inner(x)
            if bool(x.min() > 0.99):
                for _ in range(1_000_000_000):
                    y = y + 0.0
            return y

    folder = write_card(zoo / "spins", "spins", "pytorch", "model.pt", format="torchscript")
    torch.jit.script(Spinner()).save(str(folder / "model.pt"))
    return folder


def keras_custom_layer(zoo: Path) -> Path:
    """A .keras archive whose config names a layer class the server does not have (its code stays behind)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    @keras.saving.register_keras_serializable(package="hostile")
    class ReadsFiles(keras.layers.Layer):
        def call(self, inputs):
            return inputs + float(len(open("/etc/passwd").read()))

    inputs = keras.Input((SIZE, SIZE, 3))
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(ReadsFiles()(inputs)))
    folder = write_card(zoo / "keras-custom-layer", "keras-custom-layer", "keras", "model.keras", axes="bhwc")
    keras.Model(inputs, outputs).save(str(folder / "model.keras"))
    return folder


def onnx_graph(weights, op_domain: str = "", op_type: str = "MatMul"):
    from onnx import TensorProto, helper

    pooled = helper.make_node("ReduceMean", ["input"], ["pooled"], axes=[2, 3], keepdims=0)
    logits = helper.make_node(op_type, ["pooled", "weights"], ["logits"], domain=op_domain)
    graph = helper.make_graph([pooled, logits], "hostile", [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])], [helper.make_tensor_value_info(
            "logits", TensorProto.FLOAT, ["batch", 2])], [weights])
    imports = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(op_domain, 1)] if op_domain else [])
    return helper.make_model(graph, opset_imports=imports)


def onnx_external_data(zoo: Path, location: str) -> Path:
    """The weights tensor's bytes are "external data" at `location`: /etc/passwd, or a path that climbs out."""
    import onnx
    from onnx import TensorProto

    weights = onnx.TensorProto(name="weights", data_type=TensorProto.FLOAT, dims=[3, 2])
    weights.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "24")):
        weights.external_data.add(key=key, value=value)
    model_id = "onnx-external-" + ("absolute" if location.startswith("/") else "relative")
    folder = write_card(zoo / model_id, model_id, "onnx", "model.onnx")
    onnx.save(onnx_graph(weights), str(folder / "model.onnx"))
    return folder


def onnx_custom_op(zoo: Path) -> Path:
    """A node from a custom-op domain the server's ONNX Runtime has no kernel for."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    weights = numpy_helper.from_array(np.ones((3, 2), np.float32), "weights")
    folder = write_card(zoo / "onnx-custom-op", "onnx-custom-op", "onnx", "model.onnx")
    onnx.save(onnx_graph(weights, "com.hostile", "ReadFile"), str(folder / "model.onnx"))
    return folder


def build_all(zoo: Path, outside: Path) -> None:
    torchscript_reading(zoo, shared=True)
    torchscript_reading(zoo, shared=False)
    torchscript_writing(zoo, outside / "planted-by-model.bin")
    torchscript_hogging_memory(zoo)
    torchscript_spinning(zoo)
    onnx_external_data(zoo, "/etc/passwd")
    onnx_external_data(zoo, "../../../../../../etc/passwd")
    onnx_custom_op(zoo)
    keras_custom_layer(zoo)  # last: TensorFlow after torch


if __name__ == "__main__":
    build_all(Path(sys.argv[1]), Path(sys.argv[2]))
