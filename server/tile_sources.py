"""Images that tiled prediction reads one band at a time, never whole.

TIFF and OME-TIFF files (tiled, striped or pyramidal) are read lazily through tifffile's zarr store:
a read decodes only the TIFF tiles or strips it touches. Other formats (PNG, JPEG, BMP) cannot be
read in parts; they are decoded whole, held to the server's pixel limit. Reads block: call them
off the event loop.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from bioclass import images
from bioclass.errors import InvalidArgument, ResourceExhausted

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
# A compressed PNG or JPEG is never larger than its raw pixels: a bigger file cannot fit max_pixels.
_MAX_BYTES_PER_PIXEL = 8
_CHANNEL_AXES = "SC"
# Decoded rows of TIFF blocks kept per open image (a row of 256-pixel RGB tiles 10,000 wide: 7.5 MiB);
# an image too wide for two rows is read without keeping any.
CACHE_BYTES = 64 * 1024 * 1024


class ImageSource(Protocol):
    height: int
    width: int

    def read(self, y: int, x: int, height: int, width: int) -> np.ndarray:
        """(height, width[, channels]) pixels, uint8, uint16 or float32."""

    def close(self) -> None: ...


class ArraySource:
    """An image already in memory (decoded from a message or a small file)."""

    def __init__(self, pixels: np.ndarray):
        self.pixels = pixels
        self.height, self.width = pixels.shape[:2]

    def read(self, y: int, x: int, height: int, width: int) -> np.ndarray:
        return self.pixels[y:y + height, x:x + width]

    def close(self) -> None:
        self.pixels = None


class TiffSource:
    """One series and pyramid level of a TIFF file, read through zarr a band at a time."""

    def __init__(self, path: Path, series: int, level: int, max_pixels: int):
        import tifffile
        import zarr

        self._tif = tifffile.TiffFile(path)
        try:
            level_series = _level(self._tif, series, level)
            self._index, self._channels_first = _plane_index(level_series.axes, level_series.shape)
            self._array = zarr.open_array(self._tif.series[series].aszarr(level=level), mode="r")
            _check_chunks(self._array, level_series.axes, max_pixels)
        except BaseException:
            self._tif.close()
            raise
        axes, shape = level_series.axes, level_series.shape
        self.height, self.width = shape[axes.index("Y")], shape[axes.index("X")]
        self._block_height = self._array.chunks[axes.index("Y")]
        row_bytes = self._array.nbytes // self.height * self._block_height
        self._rows = _BlockRows(max(0, CACHE_BYTES // row_bytes) if row_bytes else 0)
        self._lock = threading.Lock()  # one reader at a time on the file handle and the cache

    def read(self, y: int, x: int, height: int, width: int) -> np.ndarray:
        first, last = y // self._block_height, (y + height - 1) // self._block_height
        with self._lock:
            if last - first + 1 > self._rows.capacity:
                return self._read(y, x, height, width)
            rows = [self._rows.get(i) if i in self._rows else self._rows.put(i, self._block_row(i))
                    for i in range(first, last + 1)]
        band = rows[0] if len(rows) == 1 else np.concatenate(rows)
        top = y - first * self._block_height
        return band[top:top + height, x:x + width]

    def _block_row(self, index: int) -> np.ndarray:
        """One row of TIFF blocks (tiles or strips), whole width: tile rows overlap them, so each is
        decoded once and kept while the next tile rows need it."""
        y = index * self._block_height
        return self._read(y, 0, min(self._block_height, self.height - y), self.width)

    def _read(self, y: int, x: int, height: int, width: int) -> np.ndarray:
        index = tuple(slice(y, y + height) if i == "Y" else slice(x, x + width) if i == "X" else i
                      for i in self._index)
        try:
            band = np.asarray(self._array[index])
        except Exception as exc:  # noqa: BLE001 - a truncated or corrupt file fails here, in many types
            raise InvalidArgument(f"cannot read rows {y} to {y + height - 1} of the TIFF file: "
                                  f"{type(exc).__name__}: {exc}") from None
        if self._channels_first:
            band = np.moveaxis(band, 0, -1)
        return _wire_dtype(band)

    def close(self) -> None:
        self._tif.close()


class _BlockRows:
    """The last decoded rows of TIFF blocks, oldest dropped first."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._rows: OrderedDict[int, np.ndarray] = OrderedDict()

    def __contains__(self, index: int) -> bool:
        return index in self._rows

    def get(self, index: int) -> np.ndarray:
        self._rows.move_to_end(index)
        return self._rows[index]

    def put(self, index: int, row: np.ndarray) -> np.ndarray:
        self._rows[index] = row
        while len(self._rows) > self.capacity:
            self._rows.popitem(last=False)
        return row


def open_file(path: Path, series: int, level: int, max_pixels: int) -> ImageSource:
    """A source for an image file: TIFF read lazily, anything else decoded whole."""
    try:
        with open(path, "rb") as file:
            magic = file.read(4)
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidArgument(f"cannot read the image file: {exc.strerror}") from None
    if magic in TIFF_MAGIC:
        try:
            return TiffSource(path, series, level, max_pixels)
        except (InvalidArgument, ResourceExhausted):
            raise
        except Exception as exc:  # noqa: BLE001 - tifffile and zarr raise many types for a broken file
            raise InvalidArgument(f"cannot read the TIFF file: {exc}") from None
    if series or level:
        raise InvalidArgument("series and level apply to TIFF files only")
    if size > _MAX_BYTES_PER_PIXEL * max_pixels:
        raise ResourceExhausted(f"a {size}-byte image that is not a TIFF is decoded whole, and it exceeds the "
                                f"server limit of {max_pixels} pixels; send it as a tiled TIFF")
    return ArraySource(images.decode_encoded(path.read_bytes(), 0, max_pixels))


def _level(tif, series: int, level: int):
    if series >= len(tif.series):
        raise InvalidArgument(f"series {series} requested but the TIFF has {len(tif.series)} series")
    levels = tif.series[series].levels
    if level >= len(levels):
        raise InvalidArgument(f"pyramid level {level} requested but series {series} has {len(levels)} level(s)")
    return levels[level]


def _plane_index(axes: str, shape: tuple[int, ...]) -> tuple[tuple, bool]:
    """How to index one (Y, X[, channels]) plane: 0 on every other axis of length 1, "Y"/"X" placeholders,
    a full slice on the channel axis; and whether channels come before Y."""
    extra = [(a, n) for a, n in zip(axes, shape) if a not in "YX" and n > 1]
    channels = [a for a, _ in extra if a in _CHANNEL_AXES]
    if len(extra) > 1 or (extra and not channels):
        raise InvalidArgument(f"the TIFF holds axes {axes} of shape {list(shape)}; tiled prediction reads one "
                              "2-D plane (with channels): choose a series whose other axes have length 1")
    if channels and shape[axes.index(channels[0])] > images.MAX_CHANNELS:
        raise InvalidArgument(f"the TIFF has {shape[axes.index(channels[0])]} channels; at most "
                              f"{images.MAX_CHANNELS} are supported")
    index = tuple(a if a in "YX" else slice(None) if a in channels else 0 for a in axes)
    first = bool(channels) and axes.index(channels[0]) < axes.index("Y")
    return index, first


def _check_chunks(array, axes: str, max_pixels: int) -> None:
    """A read decodes whole TIFF tiles or strips: one larger than the pixel limit is refused."""
    pixels = array.chunks[axes.index("Y")] * array.chunks[axes.index("X")]
    if pixels > max_pixels:
        raise ResourceExhausted(f"the TIFF stores its pixels in blocks of {pixels} pixels, above the server "
                                f"limit of {max_pixels} decoded at once; save it as a tiled TIFF")


def _wire_dtype(band: np.ndarray) -> np.ndarray:
    """uint8, uint16 or float32, decided by the file's dtype (not the values, so every band agrees)."""
    if band.dtype == bool:
        return band.astype(np.uint8) * 255
    if band.dtype in (np.uint8, np.uint16, np.float32):
        return band
    return band.astype(np.float32)
