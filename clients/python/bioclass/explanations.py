"""Saliency maps as the client sees them, and their rendering as a heat map over the image.

Plugins (napari, ImageJ) can call `heat_map` and `overlay` directly: both take numpy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bioclass.v1 import classifier_pb2 as pb

METHODS = ("auto", "gradcam", "occlusion")


@dataclass(frozen=True)
class Explanation:
    """Where the model looked: `saliency` is float32 (H, W) over the image as sent, in [0, 1]."""

    saliency: np.ndarray
    method: str
    class_index: int
    class_label: str
    explain_ms: float
    prediction: object = None  # the bioclass.client.Prediction of the same call

    @classmethod
    def from_message(cls, message: pb.Explanation, prediction=None) -> "Explanation":
        tensor = message.saliency
        saliency = np.frombuffer(tensor.data, dtype="<f4").reshape(tuple(tensor.shape)).astype(np.float32)
        return cls(saliency, message.method, message.class_index, message.class_label, message.explain_ms,
                   prediction)


def options(method: str = "auto", target: str | int | None = None, window: int = 0,
            stride: int = 0) -> pb.ExplainOptions:
    """The ExplainOptions message: target is a label, a label index, or None for the predicted class."""
    message = pb.ExplainOptions(method=method, occlusion_window=window, occlusion_stride=stride)
    if isinstance(target, int) and not isinstance(target, bool):
        message.target_index = target
    elif target is not None:
        message.target_label = str(target)
    return message


def heat_map(saliency: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3): black through red and yellow to white as importance grows."""
    value = np.clip(saliency, 0.0, 1.0)[..., None] * 3.0
    rgb = np.clip(value - np.array([0.0, 1.0, 2.0]), 0.0, 1.0)
    return (rgb * 255).round().astype(np.uint8)


def overlay(image: np.ndarray, saliency: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """The heat map blended over the image (any dtype, gray or RGB(A)) as RGB uint8."""
    return ((1 - opacity) * display_rgb(image) + opacity * heat_map(saliency)).round().astype(np.uint8)


def display_rgb(image: np.ndarray) -> np.ndarray:
    """An image stretched to 8-bit RGB for display."""
    pixels = image.astype(np.float32)
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels[..., :3]
    low, high = float(pixels.min()), float(pixels.max())
    scaled = (pixels - low) / (high - low) * 255 if high > low else np.zeros_like(pixels)
    return np.repeat(scaled, 3, axis=2) if scaled.shape[2] == 1 else scaled
