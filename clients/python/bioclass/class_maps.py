"""A class map assembled from tiles: probabilities (classes x rows x columns, float32) and a label image.

The server (for the Open Inference Protocol's answer) and the clients build maps here from the tiles
of a PredictTiles answer, so every path lays a map out the same way: map[k, row, column] is the
probability of class k in that tile, NaN where the tile was skipped as background.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class TilePlace:
    """Where one tile lies: its row and column in the grid, and its pixel bounds in the image."""
    row: int
    column: int
    y: int
    x: int
    height: int
    width: int


class ClassMap:
    def __init__(self, labels: Sequence[str], rows: int, columns: int):
        self.labels = tuple(labels)
        self.probabilities = np.full((len(self.labels), rows, columns), np.nan, np.float32)
        self.filled = np.zeros((rows, columns), bool)

    def add(self, row: int, column: int, probabilities: Sequence[float] | None) -> None:
        """One tile's probabilities (None or empty: the tile was skipped)."""
        self.filled[row, column] = True
        if probabilities is not None and len(probabilities):
            self.probabilities[:, row, column] = probabilities

    @property
    def complete(self) -> bool:
        return bool(self.filled.all())

    @property
    def skipped(self) -> np.ndarray:
        """(rows, columns) bool: tiles that were not classified."""
        return np.isnan(self.probabilities[0]) if len(self.labels) else self.filled

    def label_image(self) -> np.ndarray:
        """(rows, columns) uint16: 0 where a tile was skipped, else 1 + the index of its top class
        (0 is background, as napari's Labels layers and ImageJ's label images read it)."""
        skipped = self.skipped
        labels = np.nan_to_num(self.probabilities, nan=-1.0).argmax(axis=0).astype(np.uint16) + 1
        labels[skipped] = 0
        return labels
