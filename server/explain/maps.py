"""Saliency maps from network-input pixels back to the image as it was sent.

The inverse of preprocess.resize: upsample to the network input, undo the padding or the
centre crop, then stretch to the original size. Pixels a crop cut away get zero importance.
"""
from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from bioclass.server.cards import ModelCard


def to_original(saliency: np.ndarray, card: ModelCard, original: tuple[int, int]) -> np.ndarray:
    """A map (h, w) of any resolution as float32 (H, W) over the original image, scaled to [0, 1]."""
    height, width = card.input.size
    network = _resize(saliency, height, width)
    in_height, in_width = original
    mode = card.preprocessing.resize
    if mode == "pad":
        ratio = min(height / in_height, width / in_width)
        scaled_h, scaled_w = max(1, round(in_height * ratio)), max(1, round(in_width * ratio))
        top, left = (height - scaled_h) // 2, (width - scaled_w) // 2
        network = network[top:top + scaled_h, left:left + scaled_w]
    elif mode == "crop":
        ratio = max(height / in_height, width / in_width)
        scaled_h, scaled_w = max(1, round(in_height * ratio)), max(1, round(in_width * ratio))
        top, left = (scaled_h - height) // 2, (scaled_w - width) // 2
        canvas = np.zeros((scaled_h, scaled_w), np.float32)
        canvas[top:top + height, left:left + width] = network
        network = canvas
    return normalised(_resize(network, in_height, in_width))


def normalised(saliency: np.ndarray) -> np.ndarray:
    """Negative evidence dropped, the maximum scaled to 1 (an all-zero map stays zero)."""
    positive = np.clip(np.nan_to_num(saliency.astype(np.float32)), 0.0, None)
    peak = float(positive.max()) if positive.size else 0.0
    return positive / peak if peak > 0 else positive


def _resize(saliency: np.ndarray, height: int, width: int) -> np.ndarray:
    if saliency.shape == (height, width):
        return saliency.astype(np.float32, copy=False)
    image = PILImage.fromarray(np.ascontiguousarray(saliency, dtype=np.float32))
    return np.asarray(image.resize((width, height), PILImage.BILINEAR), dtype=np.float32)
