"""Large test images written on the fly, one TIFF tile at a time: a checkerboard of bright and dark
blocks, so the brightness model's class map of them is known (shared by tests/api and bench/)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

BRIGHT, DARK = 230, 20
TIFF_TILE = 256


def checkerboard(y: int, x: int, height: int, width: int, block: int) -> np.ndarray:
    """(height, width, 3) uint8 pixels of the pattern at (y, x): block (i, j) is bright when i + j is even."""
    rows = (np.arange(y, y + height) // block)[:, None]
    columns = (np.arange(x, x + width) // block)[None, :]
    plane = np.where((rows + columns) % 2 == 0, BRIGHT, DARK).astype(np.uint8)
    return np.repeat(plane[:, :, None], 3, axis=2)


def write_checkerboard_tiff(path: Path, height: int, width: int, block: int, compression: str | None = "zlib") -> Path:
    """A tiled RGB TIFF of the checkerboard (zlib-compressed unless told otherwise), never whole in memory."""
    import tifffile

    def tiles():
        for y in range(0, height, TIFF_TILE):
            for x in range(0, width, TIFF_TILE):
                yield checkerboard(y, x, TIFF_TILE, TIFF_TILE, block)

    tifffile.imwrite(path, tiles(), shape=(height, width, 3), dtype=np.uint8, tile=(TIFF_TILE, TIFF_TILE),
                     photometric="rgb", compression=compression)
    return path


def expected_labels(row_origins, column_origins, tile: int, block: int) -> np.ndarray:
    """(rows, columns) 1 + class index as the brightness model answers: 1 (bright) where a tile's mean is
    above half the range, else 2 (dark)."""
    means = np.array([[checkerboard(y, x, tile, tile, block)[..., 0].mean() for x in column_origins]
                      for y in row_origins])
    return np.where(means / 255 > 0.5, 1, 2).astype(np.uint16)
