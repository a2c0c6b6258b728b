"""A classifier whose class is decided by a marker alone, built in each framework with set weights.

A bright square (value 1) on a dim noisy background (values below 0.4) makes an image `marked`;
without it, `plain`. The first convolution fires only where the 3x3 neighbourhood is brighter than
0.6, i.e. on the marker; the second smooths; global average pooling and a dense layer turn the
firing area into the class. So a faithful saliency map must point at the marker.

Run as a script (python marker_models.py ZOO) so tests never import torch and TensorFlow together.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

LABELS = ["marked", "plain"]
SIZE = 32
MARKER = 8
THRESHOLD = 0.6
GAIN = 200.0  # logit per unit of pooled firing: a whole marker gives about +2, half a marker about 0
OFFSET = 2.0


def conv_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(out, in, 3, 3) kernels and biases of the two convolutions; channel 1 stays silent."""
    first = np.zeros((2, 3, 3, 3), np.float32)
    first[0] = 1.0 / 27.0  # mean brightness of the 3x3x3 neighbourhood
    second = np.zeros((2, 2, 3, 3), np.float32)
    second[0, 0] = 1.0 / 9.0
    return first, np.array([-THRESHOLD, 0.0], np.float32), second, np.zeros(2, np.float32)


def dense_weights() -> tuple[np.ndarray, np.ndarray]:
    """(classes, features) weights: marked = GAIN * firing - OFFSET, plain its negation."""
    return (np.array([[GAIN, 0.0], [-GAIN, 0.0]], np.float32), np.array([-OFFSET, OFFSET], np.float32))


def marker_image(corner: tuple[int, int] | None, size: int = SIZE, seed: int = 0) -> np.ndarray:
    """uint8 RGB (size, size, 3): noise below 0.4, plus a white square with its top-left at `corner`."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(0.0, 0.4, (size, size, 3))
    if corner is not None:
        side = round(MARKER * size / SIZE)
        top, left = corner
        image[top:top + side, left:left + side] = 1.0
    return (image * 255).round().astype(np.uint8)


def write_card(folder: Path, model_id: str, framework: str, weights: str, axes: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    card = {"id": model_id, "name": f"Marker ({framework})", "description": "Test model: a white square or not.",
            "framework": framework, "weights": weights, "tags": ["test", "marker"],
            "input": {"axes": axes, "channels": 3, "size": [SIZE, SIZE]},
            "preprocessing": {"resize": "stretch", "color": "rgb", "scale": "range"},
            "output": {"labels": LABELS, "activation": "softmax"}}
    (folder / "card.yaml").write_text(yaml.safe_dump(card, sort_keys=False))


def torch_marker():
    import torch

    first, first_bias, second, second_bias = conv_weights()
    dense, dense_bias = dense_weights()
    network = torch.nn.Sequential(
        torch.nn.Conv2d(3, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(2, 2, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(2, 2))
    with torch.no_grad():
        for layer, (weight, bias) in zip((network[0], network[2], network[6]),
                                         ((first, first_bias), (second, second_bias), (dense, dense_bias))):
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
    return network.eval()


def build_torch(zoo: Path) -> None:
    import torch

    example = torch.zeros(1, 3, SIZE, SIZE)
    folder = zoo / "marker-pytorch"
    write_card(folder, "marker-pytorch", "pytorch", "model.pt", "bchw")
    torch.jit.trace(torch_marker(), example).save(str(folder / "model.pt"))
    folder = zoo / "marker-onnx"
    write_card(folder, "marker-onnx", "onnx", "model.onnx", "bchw")
    torch.onnx.export(torch_marker(), (example,), str(folder / "model.onnx"), input_names=["input"],
                      output_names=["logits"], opset_version=17, dynamo=False,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def build_keras(zoo: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    first, first_bias, second, second_bias = conv_weights()
    dense, dense_bias = dense_weights()
    inputs = keras.Input((SIZE, SIZE, 3))
    conv1 = keras.layers.Conv2D(2, 3, padding="same", activation="relu")
    conv2 = keras.layers.Conv2D(2, 3, padding="same", activation="relu")
    head = keras.layers.Dense(2)
    outputs = head(keras.layers.GlobalAveragePooling2D()(conv2(conv1(inputs))))
    model = keras.Model(inputs, outputs)
    conv1.set_weights([first.transpose(2, 3, 1, 0), first_bias])  # (kh, kw, in, out)
    conv2.set_weights([second.transpose(2, 3, 1, 0), second_bias])
    head.set_weights([dense.T, dense_bias])
    folder = zoo / "marker-keras"
    write_card(folder, "marker-keras", "keras", "model.keras", "bhwc")
    model.save(str(folder / "model.keras"))


if __name__ == "__main__":
    import sys

    build_torch(Path(sys.argv[1]))  # torch first: TensorFlow imported before torchvision segfaults
    build_keras(Path(sys.argv[1]))
