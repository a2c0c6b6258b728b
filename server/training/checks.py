"""Work the server hands to its helper process because it imports torch (timm, albumentations).

Functions here must be importable and picklable by name: they run in a spawned process.
"""
from __future__ import annotations

import numpy as np


def check_request(arch: str, augmentation: str) -> None:
    """NOT_FOUND for an unknown architecture, INVALID_ARGUMENT for a bad augmentation list."""
    from bioclass.server.training import augment, networks

    networks.check_architecture(arch)
    augment.build(augmentation)


def preview(augmentation: str, pixels: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    from bioclass.server.training import augment

    return augment.preview(augmentation, pixels, count, seed)


def pretrained_weights(arch: str) -> tuple[str, list[str]]:
    """The path of an architecture's pretrained weights (downloaded into the cache first when they can be),
    or "none"; and the lines that say how (download progress, or the one-line reason)."""
    from bioclass.server.training import networks

    lines: list[str] = []
    return networks.prefetch(arch, lines.append, ""), lines
