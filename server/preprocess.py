"""Deterministic preprocessing from a decoded image to the network input a card describes.

Order: colour/channel conversion, intensity scaling, resize (bilinear on float32), mean/std,
layout. Any image size, 8/16-bit or float, grayscale, RGB or RGBA is accepted.
"""
from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from bioclass import images
from bioclass.errors import InvalidArgument
from bioclass.server.cards import ModelCard
from bioclass.v1 import image_pb2

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
ZSCORE_EPS = 1e-6
DTYPE_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def decode_for(image: image_pb2.Image, card: ModelCard, max_pixels: int) -> np.ndarray:
    """The image's pixels; a multi-page file for a card that reads pages as (H, W, pages)."""
    if card.input.pages and image.WhichOneof("data") == "encoded":
        return images.decode_pages(image.encoded.data, max(card.input.pages) + 1, max_pixels)
    return images.decode(image, max_pixels)


def prepare(image: np.ndarray, card: ModelCard) -> np.ndarray:
    """Float32 network input for one image, without the batch axis, in the card's layout."""
    return finish(scaled(image, card), card)


def scaled(image: np.ndarray, card: ModelCard) -> np.ndarray:
    """(H, W, C) float32 at the source size: the card's pages and channels, intensity scaled.

    Tiling (server/tiling.py) cuts tiles from this, so per-image scaling sees the whole image.
    """
    pixels = to_channels(select_pages(image, card), card)
    return scale(pixels, image.dtype, card)


def finish(pixels: np.ndarray, card: ModelCard) -> np.ndarray:
    """Scaled pixels (or one tile of them) resized, normalised and laid out as the network takes them."""
    pixels = resize(pixels, card.input.size, card.preprocessing.resize)
    pixels = normalise(pixels, card)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1) if card.input.axes == "bchw" else pixels)


def prepare_tiles(band: np.ndarray, lefts: list[int], width: int, card: ModelCard) -> np.ndarray:
    """(T, ...) network inputs of the tiles band[:, left:left + width], the values prepare() gives each.

    When preprocessing is elementwise (no resize, range or no scaling, channels kept), each tile is
    scaled straight into its slot of the batch in one pass; otherwise tile by tile through prepare().
    """
    if not elementwise(band, width, card):
        return np.stack([prepare(band[:, left:left + width], card) for left in lefts])
    channels_first = card.input.axes == "bchw"
    height, channels = band.shape[0], card.input.channels
    batch = np.empty((len(lefts), channels, height, width) if channels_first else
                     (len(lefts), height, width, channels), np.float32)
    maximum = DTYPE_MAX.get(band.dtype) if card.preprocessing.scale == "range" else None
    pixels = (band[..., None] if band.ndim == 2 else band)[..., :channels]  # alpha carries no class information
    for slot, left in zip(batch, lefts):
        tile = pixels[:, left:left + width]
        tile = tile.transpose(2, 0, 1) if channels_first else tile
        if maximum:  # the same float32 division as scale(): uint8/16 converts exactly
            np.divide(tile, np.float32(maximum), out=slot)
        else:
            slot[...] = tile
    if card.preprocessing.mean:
        shape = (channels, 1, 1) if channels_first else (channels,)
        batch -= np.asarray(card.preprocessing.mean, np.float32).reshape(shape)
        batch /= np.asarray(card.preprocessing.std, np.float32).reshape(shape)
    return batch


def elementwise(band: np.ndarray, width: int, card: ModelCard) -> bool:
    """Whether a tile of the band reaches the network by per-pixel arithmetic alone (see to_channels)."""
    held = band.shape[2] if band.ndim == 3 else 1
    colour = card.preprocessing.color != "gray"
    kept = held == card.input.channels == 1 or (held in (3, 4) and card.input.channels == 3 and colour)
    return (not card.input.pages and kept and band.ndim in (2, 3) and card.preprocessing.scale in ("range", "none")
            and (band.shape[0], width) == tuple(card.input.size))


def select_pages(image: np.ndarray, card: ModelCard) -> np.ndarray:
    """The card's pages, from a multi-page image decoded as (H, W, pages) or a multi-channel array."""
    pages = list(card.input.pages)
    if not pages:
        return image
    held = image.shape[2] if image.ndim == 3 else 1
    if held <= max(pages):
        raise InvalidArgument(f"model {card.id} reads pages {pages} of each image; got an image with {held} "
                              f"page(s) or channel(s)")
    return image[..., pages]


def to_channels(image: np.ndarray, card: ModelCard) -> np.ndarray:
    """(H, W, C) float32 with the card's colour mode and channel count."""
    pixels = image[..., None] if image.ndim == 2 else image
    if pixels.ndim != 3:
        raise InvalidArgument(f"model {card.id} expects a 2-D image (y, x[, c]); got {image.ndim} dimensions")
    pixels = pixels.astype(np.float32, copy=False)
    channels = pixels.shape[2]
    if channels == 2 and card.input.pages:  # two pages: their mean for gray, a zero third channel for colour
        pixels = pixels.mean(axis=2, keepdims=True) if card.input.channels == 1 else \
            np.concatenate([pixels, np.zeros_like(pixels[..., :1])], axis=2)
        return pixels
    if channels not in (1, 3, 4):
        raise InvalidArgument(f"model {card.id} expects {_describe(card)} images; got an image with "
                              f"{channels} channels (1, 3 or 4 can be converted)")
    if channels == 4:
        pixels = pixels[..., :3]  # alpha carries no class information
    wanted = 1 if card.preprocessing.color == "gray" else 3
    if pixels.shape[2] == 3 and wanted == 1:
        pixels = (pixels @ _LUMA)[..., None]
    if pixels.shape[2] != card.input.channels:
        pixels = np.repeat(pixels, card.input.channels, axis=2) if pixels.shape[2] == 1 else (pixels @ _LUMA)[..., None]
    return pixels


def scale(pixels: np.ndarray, source_dtype: np.dtype, card: ModelCard) -> np.ndarray:
    mode = card.preprocessing.scale
    if mode == "range":
        maximum = DTYPE_MAX.get(np.dtype(source_dtype))
        return pixels / maximum if maximum else pixels
    if mode == "none":
        return pixels
    if mode == "zscore":  # per-image standardisation, as bioimage.io's zero_mean_unit_variance
        return (pixels - float(pixels.mean())) / (float(pixels.std()) + ZSCORE_EPS)
    if mode == "minmax":
        low, high = float(pixels.min()), float(pixels.max())
    else:
        low, high = (float(v) for v in np.percentile(pixels, card.preprocessing.percentiles))
    return (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)


def resize(pixels: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    height, width = size
    in_height, in_width = pixels.shape[:2]
    if (in_height, in_width) == (height, width):
        return pixels
    if mode == "stretch":
        return _resize_channels(pixels, width, height)
    ratio = (min if mode == "pad" else max)(height / in_height, width / in_width)
    scaled_h, scaled_w = max(1, round(in_height * ratio)), max(1, round(in_width * ratio))
    scaled = _resize_channels(pixels, scaled_w, scaled_h)
    if mode == "pad":
        canvas = np.zeros((height, width, pixels.shape[2]), np.float32)
        top, left = (height - scaled_h) // 2, (width - scaled_w) // 2
        canvas[top:top + scaled_h, left:left + scaled_w] = scaled
        return canvas
    top, left = (scaled_h - height) // 2, (scaled_w - width) // 2
    return scaled[top:top + height, left:left + width]


def _resize_channels(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    planes = [np.asarray(PILImage.fromarray(np.ascontiguousarray(pixels[..., c]))
                         .resize((width, height), PILImage.BILINEAR)) for c in range(pixels.shape[2])]
    return np.stack(planes, axis=2)


def normalise(pixels: np.ndarray, card: ModelCard) -> np.ndarray:
    pre = card.preprocessing
    if not pre.mean:
        return pixels
    return (pixels - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)


def _describe(card: ModelCard) -> str:
    return f"{card.input.channels}-channel ({card.preprocessing.color})"
