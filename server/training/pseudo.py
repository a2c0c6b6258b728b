"""Pseudo-labels for unlabelled images: averaged softmax of teachers under test-time transforms.

Data distillation (Radosavovic et al. 2018) predicts each image under several transforms and
averages; model distillation averages several networks; both together do both. An image is
pseudo-labelled when the averaged probability of its best class reaches the threshold.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

import cv2
import numpy as np
import torch

from bioclass.server.cards import ModelCard
from bioclass.server.preprocess import prepare
from bioclass.server.training import augment, data, recipe


def _gamma(pixels: np.ndarray, gamma: float) -> np.ndarray:
    """Exposure changed in the image's own dtype and range (16-bit pages stay 16-bit)."""
    if pixels.dtype == np.uint8:
        table = (np.linspace(0, 1, 256) ** gamma * 255).round().astype(np.uint8)
        return table[pixels]
    return augment.in_unit_range(pixels, lambda unit: np.clip(unit, 0, 1) ** gamma)


# Label-preserving transforms for microscopy cells: orientation, focus and exposure do not change the class.
TRANSFORMS = {
    "identity": lambda p: p,
    "flip_horizontal": lambda p: np.ascontiguousarray(p[:, ::-1]),
    "flip_vertical": lambda p: np.ascontiguousarray(p[::-1]),
    "blur": lambda p: cv2.GaussianBlur(p, (3, 3), 0),
    "gamma_0.8": lambda p: _gamma(p, 0.8),
    "gamma_1.25": lambda p: _gamma(p, 1.25),
}


@dataclass
class Pool:
    """The unlabelled images, with the true label where the folder gives one (unlabelled/<class>/x.png)."""

    images: data.ImageSet
    truths: list[str]


def load_pool(root, names: list[str], labels: list[str], card: ModelCard) -> Pool:
    images = data.load(root, [(name, 0) for name in names], [], card)  # the card's pages, as the labelled ones
    truths = [_known_label(name, labels) for name in images.names]
    return Pool(images, truths)


def _known_label(name: str, labels: list[str]) -> str:
    parent = PurePosixPath(name).parent.name
    return parent if parent in labels else ""


def averaged_softmax(networks: list[torch.nn.Module], pool: Pool, card: ModelCard, transforms: list[str]) -> np.ndarray:
    """(N, classes): the mean over networks and transforms."""
    total = None
    for name in transforms:
        x = torch.from_numpy(np.stack([prepare(TRANSFORMS[name](p), card) for p in pool.images.pixels]))
        for network in networks:
            probabilities = torch.softmax(recipe.predict(network, x), dim=1).numpy()
            total = probabilities if total is None else total + probabilities
    return total / (len(networks) * len(transforms))


def select(probabilities: np.ndarray, threshold: float, labels: list[str], pool: Pool) -> tuple[list[int], dict]:
    """Indices of confident images with their class, and the report (counts per class, accuracy if known)."""
    chosen = [i for i, p in enumerate(probabilities) if p.max() >= threshold]
    predicted = {i: int(probabilities[i].argmax()) for i in chosen}
    counts = Counter(labels[c] for c in predicted.values())
    known = [i for i in chosen if pool.truths[i]]
    correct = sum(labels[predicted[i]] == pool.truths[i] for i in known)
    report = {"unlabelled": len(probabilities), "pseudo_labelled": len(chosen),
              "counts": {label: counts.get(label, 0) for label in labels},
              "with_known_label": len(known), "accuracy": correct / len(known) if known else -1.0}
    return [(i, predicted[i]) for i in chosen], report


def extended(train: data.ImageSet, pool: Pool, chosen: list[tuple[int, int]]) -> data.ImageSet:
    """The training split plus the pseudo-labelled images."""
    return data.ImageSet(names=[*train.names, *(pool.images.names[i] for i, _ in chosen)],
                         pixels=[*train.pixels, *(pool.images.pixels[i] for i, _ in chosen)],
                         targets=[*train.targets, *(c for _, c in chosen)])
