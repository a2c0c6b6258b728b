"""Images on the wire: build `Image` messages on the client, decode them on the server.

Decoding lives here (not in the server) because both sides need it: the server to classify,
clients to split stacks and to check a file before sending it. Only Pillow and numpy are used;
tifffile, when installed, reads TIFF variants that Pillow cannot (16-bit RGB, float stacks).
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image as PILImage

from bioclass.errors import InvalidArgument, ResourceExhausted
from bioclass.v1 import image_pb2 as pb

ImageSource = Union[str, Path, bytes, np.ndarray, "PILImage.Image"]

SUPPORTED_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "MPO")
FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

_DTYPES = {pb.UINT8: np.dtype("<u1"), pb.UINT16: np.dtype("<u2"), pb.FLOAT32: np.dtype("<f4")}
_DTYPE_ENUM = {np.dtype("uint8"): pb.UINT8, np.dtype("uint16"): pb.UINT16, np.dtype("float32"): pb.FLOAT32}
_AXES = ("yx", "yxc", "cyx")
MAX_CHANNELS = 16


# ---- client side: anything image-like to an `Image` message ------------------------------

def to_image(source: ImageSource, name: str | None = None, page: int = 0, axes: str | None = None,
             into: pb.Image | None = None) -> pb.Image:
    """An `Image` message from a file path, file bytes, a numpy array or a PIL image.

    `into` fills that message instead, typically the `image` field of the request being built:
    protobuf copies a message each time it is placed inside another, and for a 600 KB image each
    copy of fresh memory costs about 0.6 ms here (page faults), more than the round trip.
    """
    message = pb.Image() if into is None else into
    if isinstance(source, (str, Path)):
        path = Path(source)
        message.encoded.data, message.encoded.format = path.read_bytes(), path.suffix.lstrip(".").lower()
        message.encoded.page, message.name = page or 0, name or path.name
        return message
    if isinstance(source, (bytes, bytearray, memoryview)):
        message.encoded.data, message.encoded.page, message.name = bytes(source), page or 0, name or ""
        return message
    if isinstance(source, PILImage.Image):
        source = np.asarray(source)
    if isinstance(source, np.ndarray):
        array_to_tensor(source, axes, into=message.tensor)
        message.name = name or ""
        return message
    raise TypeError(f"cannot make an image from {type(source).__name__}")


def array_to_tensor(array: np.ndarray, axes: str | None = None, into: pb.Tensor | None = None) -> pb.Tensor:
    """A raw `Tensor` message (or `into` filled); other dtypes are converted to the nearest one the wire carries."""
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind in "iu" and array.dtype not in _DTYPE_ENUM:
        fits_16 = array.size == 0 or (array.min() >= 0 and array.max() <= 65535)
        array = array.astype(np.uint16) if fits_16 else array.astype(np.float32)
    elif array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32)
    contiguous = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    tensor = pb.Tensor() if into is None else into
    tensor.dtype, tensor.axes = _DTYPE_ENUM[np.dtype(array.dtype.name)], axes or ("yx" if array.ndim == 2 else "yxc")
    tensor.shape[:] = list(array.shape)
    tensor.data = contiguous.tobytes()
    return tensor


def count_pages(path: str | Path) -> int:
    """Number of pages (1 for anything but a multi-page TIFF)."""
    with PILImage.open(path) as img:
        return getattr(img, "n_frames", 1)


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in FILE_SUFFIXES and not path.name.startswith(".")


# ---- server side: an `Image` message to a numpy array ------------------------------------

def decode(image: pb.Image, max_pixels: int) -> np.ndarray:
    """Pixels as (H, W) or (H, W, C) uint8, uint16 or float32; raises InvalidArgument/ResourceExhausted."""
    kind = image.WhichOneof("data")
    if kind == "encoded":
        array = decode_encoded(image.encoded.data, image.encoded.page, max_pixels)
    elif kind == "tensor":
        array = tensor_to_array(image.tensor, max_pixels)
    else:
        raise InvalidArgument("the image is empty: set either `encoded` or `tensor`")
    if array.dtype == np.float32 and not np.isfinite(array).all():
        raise InvalidArgument("the image contains NaN or infinite values")
    return array


def tensor_to_array(tensor: pb.Tensor, max_pixels: int) -> np.ndarray:
    if tensor.dtype not in _DTYPES:
        raise InvalidArgument(f"unsupported tensor dtype {tensor.dtype}: expected UINT8, UINT16 or FLOAT32")
    shape = tuple(tensor.shape)
    axes = tensor.axes or {2: "yx", 3: "yxc"}.get(len(shape), "")
    if axes not in _AXES or len(axes) != len(shape):
        raise InvalidArgument(f"tensor axes {tensor.axes!r} with shape {list(shape)}: expected axes one of "
                              f"{', '.join(_AXES)} with one shape entry per axis")
    if 0 in shape:
        raise InvalidArgument(f"tensor shape {list(shape)} has an empty axis")
    height, width = shape[axes.index("y")], shape[axes.index("x")]
    _check_pixels(width, height, max_pixels)
    channels = shape[axes.index("c")] if "c" in axes else 1
    if channels > MAX_CHANNELS:
        raise InvalidArgument(f"tensor has {channels} channels; at most {MAX_CHANNELS} are supported")
    dtype = _DTYPES[tensor.dtype]
    expected = math.prod(shape) * dtype.itemsize
    if len(tensor.data) != expected:
        raise InvalidArgument(f"tensor data has {len(tensor.data)} bytes; shape {list(shape)} of "
                              f"{dtype.name} needs {expected}")
    # A read-only view of the message's bytes: preprocessing never writes into its input.
    array = np.frombuffer(tensor.data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)
    return np.moveaxis(array, 0, -1) if axes == "cyx" else array


def decode_encoded(data: bytes, page: int, max_pixels: int) -> np.ndarray:
    if not data:
        raise InvalidArgument("the encoded image has no bytes")
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        array = _decode_tiff(data, page, max_pixels)
        if array is not None:
            return array
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            if img.format not in SUPPORTED_FORMATS:
                raise InvalidArgument(f"unsupported image format {img.format}: expected PNG, JPEG, TIFF or BMP")
            _check_pixels(img.width, img.height, max_pixels)
            _seek(img, page)
            return _pil_to_array(img)
    except (InvalidArgument, ResourceExhausted):
        raise
    except PILImage.DecompressionBombError as exc:
        raise ResourceExhausted(f"image refused as a decompression bomb: {exc}") from None
    except PILImage.UnidentifiedImageError:
        raise InvalidArgument("cannot decode the image: not a PNG, JPEG, TIFF or BMP file") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InvalidArgument(f"cannot decode the image: {exc}") from None


def decode_pages(data: bytes, pages: int, max_pixels: int) -> np.ndarray:
    """The first `pages` pages of a multi-page image, each a plane, as (H, W, pages).

    All pages together are held to `max_pixels`, checked after the first page is decoded.
    """
    planes = [decode_encoded(data, 0, max_pixels)]
    if pages * planes[0].shape[0] * planes[0].shape[1] > max_pixels:
        raise ResourceExhausted(f"{pages} pages of {planes[0].shape[1]}x{planes[0].shape[0]} pixels exceed the "
                                f"server limit of {max_pixels} pixels")
    planes += [decode_encoded(data, page, max_pixels) for page in range(1, pages)]
    if any(p.ndim != 2 or p.shape != planes[0].shape or p.dtype != planes[0].dtype for p in planes):
        raise InvalidArgument(f"the first {pages} pages must be single-channel planes of one size and type; got "
                              + ", ".join(f"{list(p.shape)} {p.dtype}" for p in planes))
    return np.stack(planes, axis=2)


def _seek(img: PILImage.Image, page: int) -> None:
    pages = getattr(img, "n_frames", 1)
    if page >= pages:
        raise InvalidArgument(f"page {page} requested but the image has {pages} page(s)")
    if page:
        img.seek(page)


def _pil_to_array(img: PILImage.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("1", "LA", "La"):
        img = img.convert("L")
    elif mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa"):
        img = img.convert("RGB")
    array = np.asarray(img)
    if array.dtype == np.int32:  # mode "I": 32-bit integers, keep 16-bit when they fit
        fits = array.min() >= 0 and array.max() <= 65535
        array = array.astype(np.uint16 if fits else np.float32)
    elif array.dtype.kind in "iu" and array.dtype.itemsize == 2:
        array = array.astype(np.uint16)
    elif array.dtype.kind == "f":
        array = array.astype(np.float32)
    return array


def _decode_tiff(data: bytes, page: int, max_pixels: int) -> np.ndarray | None:
    """TIFF through tifffile when it is installed (None: let Pillow try)."""
    try:
        import tifffile
    except ImportError:
        return None
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            pages = len(tif.pages)
            if page >= pages:
                raise InvalidArgument(f"page {page} requested but the image has {pages} page(s)")
            tiff_page = tif.pages[page]
            shape = tiff_page.shape
            if len(shape) not in (2, 3):
                return None
            height, width = _tiff_plane(shape)
            _check_pixels(width, height, max_pixels)
            array = tiff_page.asarray()
    except (InvalidArgument, ResourceExhausted):
        raise
    except Exception:  # noqa: BLE001 - tifffile raises many types; Pillow gets the last word
        return None
    if array.ndim == 3 and array.shape[-1] > MAX_CHANNELS and array.shape[0] <= MAX_CHANNELS:
        array = np.moveaxis(array, 0, -1)  # planar (c, y, x) storage
    return _normalise_dtype(array)


def _tiff_plane(shape: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) of a TIFF page: (y, x), (y, x, samples) or planar (samples, y, x). More samples per
    pixel than MAX_CHANNELS either way is refused before decoding (it would multiply the pixels read)."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if shape[-1] <= MAX_CHANNELS:
        return shape[0], shape[1]
    if shape[0] <= MAX_CHANNELS:
        return shape[1], shape[2]
    raise InvalidArgument(f"TIFF page of shape {list(shape)}: at most {MAX_CHANNELS} samples per pixel are supported")


def _normalise_dtype(array: np.ndarray) -> np.ndarray:
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype in (np.uint8, np.uint16, np.float32):
        return array
    if array.dtype.kind in "iu":
        fits = array.min() >= 0 and array.max() <= 65535
        return array.astype(np.uint16 if fits else np.float32)
    return array.astype(np.float32)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ResourceExhausted(f"image of {width}x{height} pixels exceeds the server limit of {max_pixels} pixels")
