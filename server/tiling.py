"""Tiles of an image at native scale, as a card's `tiling` block describes them, and their aggregation.

Every path that serves a tiled model (Predict, Evaluate, the Open Inference Protocol, training's
evaluation) cuts and aggregates here, so they all give the same answer. The image is scaled as a
whole first (per-image percentiles see the whole field), then cut; each tile is resized to the
network's input size. Tiles start every `stride` pixels and the last row and column are aligned
to the image's edge, so every pixel is seen; an image smaller than a tile is one tile.
"""
from __future__ import annotations

import numpy as np

from bioclass.errors import ResourceExhausted
from bioclass.server.cards import ModelCard, Tiling
from bioclass.server.preprocess import finish, prepare, scaled


def origins(length: int, tile: int, step: int) -> list[int]:
    """Start of each tile along one axis."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, step))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def count(shape: tuple[int, ...], tiling: Tiling) -> int:
    (tile_h, tile_w), (step_h, step_w) = tiling.size, tiling.step
    return len(origins(shape[0], tile_h, step_h)) * len(origins(shape[1], tile_w, step_w))


def cut(pixels: np.ndarray, tiling: Tiling) -> list[np.ndarray]:
    """The tiles of an (H, W[, C]) array, row by row."""
    (tile_h, tile_w), (step_h, step_w) = tiling.size, tiling.step
    return [pixels[y:y + tile_h, x:x + tile_w]
            for y in origins(pixels.shape[0], tile_h, step_h) for x in origins(pixels.shape[1], tile_w, step_w)]


def network_inputs(image: np.ndarray, card: ModelCard, max_tiles: int) -> np.ndarray:
    """(T, ...) network inputs for one image: its tiles, or the whole image as one (T = 1) when untiled."""
    if card.tiling is None:
        return prepare(image, card)[None]
    tiles = count(image.shape, card.tiling)
    if tiles > max_tiles:
        raise ResourceExhausted(f"an image of {image.shape[1]}x{image.shape[0]} makes {tiles} tiles of "
                                f"{card.tiling.size[1]}x{card.tiling.size[0]} for model {card.id}; the server's "
                                f"limit is {max_tiles} tiles per image")
    return np.stack([finish(tile, card) for tile in cut(scaled(image, card), card.tiling)])


def aggregate(probabilities: np.ndarray, card: ModelCard) -> np.ndarray:
    """One image's class probabilities from its tiles' (T, K) probabilities."""
    if len(probabilities) == 1:
        return probabilities[0]
    if card.tiling is not None and card.tiling.aggregation == "majority":
        # Each tile votes for its top class; the image's answer is the share of votes per class.
        votes = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])
        return (votes / len(probabilities)).astype(np.float32)
    return probabilities.mean(axis=0).astype(np.float32)
