"""Small real models for the tests, built in each framework with known weights.

The "brightness" classifier is global average pooling then a fixed dense layer: images with
mean intensity above 0.5 are `bright`, below are `dark`. Being exact, it lets tests assert the
answer, not only that one came back.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

LABELS = ["bright", "dark"]
SIZE = 16
# logits = W @ mean_rgb + b: bright wins when the mean of the three channels exceeds 0.5.
WEIGHTS = np.array([[10.0, 10.0, 10.0], [-10.0, -10.0, -10.0]], np.float32)
BIAS = np.array([-15.0, 15.0], np.float32)


def write_card(folder: Path, model_id: str, framework: str, weights: str, axes: str = "bchw", **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    card = {"id": model_id, "name": f"Brightness ({framework})", "description": "Test model: bright or dark.",
            "framework": framework, "weights": weights, "tags": ["test", "brightness"],
            "input": {"axes": axes, "channels": 3, "size": [SIZE, SIZE]},
            "preprocessing": {"resize": "stretch", "color": "rgb", "scale": "range"},
            "output": {"labels": LABELS, "activation": "softmax"}, **extra}
    (folder / "card.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    return folder


def torch_brightness():
    import torch

    class Brightness(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)
            with torch.no_grad():
                self.fc.weight.copy_(torch.from_numpy(WEIGHTS))
                self.fc.bias.copy_(torch.from_numpy(BIAS))

        def forward(self, x):
            return self.fc(x.mean(dim=(2, 3)))

    return Brightness().eval()


def build_torchscript(zoo: Path, model_id: str = "brightness-pytorch") -> Path:
    import torch

    folder = write_card(zoo / model_id, model_id, "pytorch", "model.pt")
    torch.jit.trace(torch_brightness(), torch.zeros(1, 3, SIZE, SIZE)).save(str(folder / "model.pt"))
    return folder


def build_onnx(zoo: Path, model_id: str = "brightness-onnx") -> Path:
    import torch

    folder = write_card(zoo / model_id, model_id, "onnx", "model.onnx")
    torch.onnx.export(torch_brightness(), (torch.zeros(1, 3, SIZE, SIZE),), str(folder / "model.onnx"),
                      input_names=["input"], output_names=["logits"], opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    return folder


def keras_brightness():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    inputs = keras.Input((SIZE, SIZE, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(2)
    model = keras.Model(inputs, dense(pooled))
    dense.set_weights([WEIGHTS.T, BIAS])
    return model


def build_keras(zoo: Path, model_id: str = "brightness-keras", fmt: str = "keras") -> Path:
    weights = {"keras": "model.keras", "h5": "model.h5", "savedmodel": "saved_model"}[fmt]
    folder = write_card(zoo / model_id, model_id, "keras", weights, axes="bhwc")
    model = keras_brightness()
    if fmt == "savedmodel":
        model.export(str(folder / weights), format="tf_saved_model", verbose=False)
    else:
        model.save(str(folder / weights))
    return folder


def build_state_dict(zoo: Path, model_id: str = "test-resnet-state-dict") -> Path:
    """A timm architecture from a state_dict (random weights: only loading is under test)."""
    import timm
    import torch

    folder = write_card(zoo / model_id, model_id, "pytorch", "weights.pth", architecture="timm:test_resnet")
    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=len(LABELS))
    torch.save(model.state_dict(), folder / "weights.pth")
    return folder


def build_all(zoo: Path) -> list[Path]:
    return [build_torchscript(zoo), build_onnx(zoo), build_keras(zoo), build_keras(zoo, "brightness-keras-h5", "h5"),
            build_keras(zoo, "brightness-savedmodel", "savedmodel"), build_state_dict(zoo)]


def solid_image(value: float, size: int = 20, dtype=np.uint8, channels: int = 3) -> np.ndarray:
    """A uniform image at `value` in [0, 1] of the dtype's range."""
    maximum = {np.uint8: 255, np.uint16: 65535}.get(dtype, 1.0)
    shape = (size, size, channels) if channels > 1 else (size, size)
    return np.full(shape, value * maximum).astype(dtype)


if __name__ == "__main__":
    # Run as a script so the test process never imports torch and TensorFlow together
    # (TensorFlow imported before torchvision segfaults).
    import sys

    import timm  # noqa: F401 - torchvision (via timm) must be imported before TensorFlow
    build_all(Path(sys.argv[1]))
