"""A zoo with the brightness ONNX model twice, untiled and tiled in 16-pixel tiles, and banded images
whose tiled answer differs from the whole image's (shared by tests/api and tests/java)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from models import SIZE, write_card

# Three 16-pixel-wide bands: two a little bright, one black. The whole image's mean is dark (0.37);
# two of its three tiles are bright, so tiles averaged say bright.
BANDS = (0.55, 0.55, 0.0)


def tiled_zoo(test_zoo: Path, zoo: Path) -> Path:
    """`untiled` and `tiled` (tiling: size [16, 16], mean), both the test zoo's brightness-onnx weights."""
    for model_id, extra in (("untiled", {}), ("tiled", {"tiling": {"size": [SIZE, SIZE]}})):
        write_card(zoo / model_id, model_id, "onnx", "model.onnx", **extra)
        shutil.copy(test_zoo / "brightness-onnx" / "model.onnx", zoo / model_id / "model.onnx")
    return zoo


def banded(values, height: int = SIZE, width: int = 3 * SIZE) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    for i, value in enumerate(values):
        image[:, i * SIZE:(i + 1) * SIZE] = round(value * 255)
    return image
