"""A 400 x 300 field of real malaria cells for tiled prediction tests: a grid of 6 rows x 8 columns of
50 x 50 cells (malaria-cnn-onnx's input), parasitized in the left four columns, uninfected in the right."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from paths import DATASETS

MALARIA = DATASETS / "malaria-cells-50"
CELL = 50
ROWS, COLUMNS = 6, 8
MODEL = "malaria-cnn-onnx"
LABELS = ("Parasitized", "Uninfected")


def mosaic() -> np.ndarray:
    """(300, 400, 3) uint8; column c of cells is Parasitized when c < 4."""
    cells = {label: sorted((MALARIA / label).iterdir())[:ROWS * COLUMNS // 2] for label in LABELS}
    field = np.zeros((ROWS * CELL, COLUMNS * CELL, 3), np.uint8)
    for row in range(ROWS):
        for column in range(COLUMNS):
            label = LABELS[0] if column < COLUMNS // 2 else LABELS[1]
            path = cells[label][row * COLUMNS // 2 + column % (COLUMNS // 2)]
            cell = Image.open(path).convert("RGB").resize((CELL, CELL))
            field[row * CELL:(row + 1) * CELL, column * CELL:(column + 1) * CELL] = np.asarray(cell)
    return field


def save_mosaic(folder: Path, suffix: str = ".png") -> Path:
    path = folder / f"mosaic{suffix}"
    Image.fromarray(mosaic()).save(path)
    return path
