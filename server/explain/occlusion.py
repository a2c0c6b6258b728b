"""Occlusion sensitivity: how much the class probability drops when a window of the input is
blanked out. Needs only forward passes, so it explains any model, in batches.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np

Infer = Callable[[np.ndarray], Awaitable[np.ndarray]]  # batch -> probabilities (B, K)


def windows(height: int, width: int, window: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners of windows covering the whole input (the last row and column flush with the edge)."""
    def starts(size: int) -> list[int]:
        last = max(0, size - window)
        return sorted(set(range(0, last + 1, stride)) | {last})

    return [(top, left) for top in starts(height) for left in starts(width)]


def default_window(height: int, width: int, window: int, stride: int) -> tuple[int, int]:
    window = window or max(1, min(height, width) // 4)
    window = min(window, height, width)
    return window, stride or max(1, window // 2)


async def occlusion(network_input: np.ndarray, channels_first: bool, class_index: int, infer: Infer,
                    window: int = 0, stride: int = 0, batch_size: int = 32) -> np.ndarray:
    """A map (h, w) over the network input: mean probability drop of the windows covering each pixel.

    Occluded pixels are set to 0, the network's input for "no signal" (the dataset mean when the
    card normalises with a mean and std).
    """
    planes = network_input if channels_first else network_input.transpose(2, 0, 1)
    height, width = planes.shape[1:]
    window, stride = default_window(height, width, window, stride)
    corners = windows(height, width, window, stride)
    baseline = float((await infer(network_input[None]))[0, class_index])
    drops = np.zeros((height, width), np.float32)
    counts = np.zeros((height, width), np.float32)
    for start in range(0, len(corners), batch_size):
        chunk = corners[start:start + batch_size]
        batch = np.repeat(planes[None], len(chunk), axis=0)
        for row, (top, left) in enumerate(chunk):
            batch[row, :, top:top + window, left:left + window] = 0.0
        if not channels_first:
            batch = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
        scores = (await infer(batch))[:, class_index]
        for (top, left), score in zip(chunk, scores):
            drops[top:top + window, left:left + window] += baseline - float(score)
            counts[top:top + window, left:left + window] += 1.0
    return drops / np.maximum(counts, 1.0)
