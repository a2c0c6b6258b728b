"""Suggested labels for the images not yet labelled, least certain first (active learning).

Two sources, both fast enough to rerun after every few labels:
- `centroid_suggestions`: a nearest-centroid classifier on simple features of the object in each
  image (dark and saturated spots, colour ratios), computed here with numpy and fitted on the
  labels given so far; no server needed. On malaria-cells-50 with 5 labels per class it is right
  about 75% of the time, and about 95% on the half it is most certain about.
- `model_suggestions`: a served model's probabilities, when its labels are the session's classes.
Uncertainty is the margin between the two most probable classes: the smallest margin first.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Pixels this far (sum over RGB in [0, 1]) from the border colour belong to the object.
FOREGROUND_DISTANCE = 0.15
# Softmax sharpness over distances of standardised features: with these ~20 features it gives
# probabilities that track accuracy (about 0.7 mean top-1 at 75% right on malaria cells).
SHARPNESS = 0.5


@dataclass(frozen=True)
class Suggestion:
    name: str
    label: str
    probability: float
    margin: float  # top-1 minus top-2 probability: small is uncertain


def read_image(path: Path) -> np.ndarray:
    """Pixels as napari shows them: (H, W) gray, (H, W, 3/4) colour."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image)


def features(image: np.ndarray) -> np.ndarray:
    """Colour and texture of the object in the image (the pixels unlike its border), the same
    length for any image size: dark spots, saturated spots and colour ratios relative to the
    object's own median, so that staining and exposure differences matter less."""
    pixels = _object_pixels(_as_rgb_float(image))
    gray = pixels.mean(axis=1)
    median = np.median(gray) + 1e-6
    saturation = pixels.max(axis=1) - pixels.min(axis=1)
    green_to_red = pixels[:, 1] / (pixels[:, 0] + 1e-3)
    return np.concatenate([
        np.percentile(gray, [2, 5, 10]) / median,
        [(gray < 0.8 * median).mean(), (gray < 0.9 * median).mean()],
        np.percentile(saturation, [50, 90, 95, 99]),
        np.percentile(green_to_red, [1, 2, 5, 50]),
        pixels.mean(axis=0), pixels.std(axis=0)]).astype(np.float32)


def _as_rgb_float(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) in [0, 1] whatever the dtype and channels, alpha dropped."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    pixels = pixels[..., :3].astype(np.float32)
    if np.issubdtype(image.dtype, np.integer):
        return pixels / np.iinfo(image.dtype).max
    low, high = float(pixels.min()), float(pixels.max())
    return (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)


def _object_pixels(pixels: np.ndarray) -> np.ndarray:
    """(N, 3) pixels that differ from the border's median colour; all pixels if too few do."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    distance = np.abs(pixels - np.median(border, axis=0)).sum(axis=2)
    inside = pixels[distance > FOREGROUND_DISTANCE]
    return inside if len(inside) >= 16 else pixels.reshape(-1, 3)


def nearest_centroid(train: np.ndarray, labels: Sequence[str], classes: Sequence[str],
                     queries: np.ndarray) -> np.ndarray:
    """Class probabilities (queries x classes): softmax of minus the distance to each class mean."""
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-6
    scaled_train, scaled_queries = (train - mean) / std, (queries - mean) / std
    labels = np.asarray(labels)
    centroids = np.stack([scaled_train[labels == c].mean(axis=0) for c in classes])
    distances = np.linalg.norm(scaled_queries[:, None, :] - centroids[None], axis=2)
    logits = -SHARPNESS * (distances - distances.min(axis=1, keepdims=True))
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def ranked(names: Sequence[str], classes: Sequence[str], probabilities: np.ndarray) -> list[Suggestion]:
    """One suggestion per image, the smallest margin (least certain) first."""
    suggestions = []
    for name, row in zip(names, probabilities):
        order = np.argsort(row)[::-1]
        second = row[order[1]] if len(order) > 1 else 0.0
        suggestions.append(Suggestion(name, classes[order[0]], float(row[order[0]]), float(row[order[0]] - second)))
    return sorted(suggestions, key=lambda s: (s.margin, s.name))


def centroid_suggestions(session, feature_cache: dict[str, np.ndarray] | None = None) -> list[Suggestion]:
    """Suggestions for the session's unlabelled images from the labels given so far.

    Needs at least one labelled image in two classes or more; the cache keeps features between calls.
    """
    cache = {} if feature_cache is None else feature_cache
    classes = [c for c in session.classes if c in set(session.labels.values())]
    if len(classes) < 2:
        raise ValueError("label at least one image in each of two classes first")
    labelled = [n for n in session.names if n in session.labels]
    unlabelled = [n for n in session.remaining if n not in session.labels]
    if not unlabelled:
        return []
    vectors = {n: _cached_features(session.path(n), cache) for n in (*labelled, *unlabelled)}
    probabilities = nearest_centroid(np.stack([vectors[n] for n in labelled]),
                                     [session.labels[n] for n in labelled], classes,
                                     np.stack([vectors[n] for n in unlabelled]))
    return ranked(unlabelled, classes, probabilities)


def _cached_features(path: Path, cache: dict[str, np.ndarray]) -> np.ndarray:
    key = str(path)
    if key not in cache:
        cache[key] = features(read_image(path))
    return cache[key]


def model_suggestions(client, model: str, session) -> list[Suggestion]:
    """Suggestions from a served model whose labels are exactly the session's classes."""
    labels = list(client.model(model).output.labels)
    if sorted(labels) != sorted(session.classes):
        raise ValueError(f"model {model} has labels {labels}, not the classes {session.classes}")
    unlabelled = [n for n in session.remaining if n not in session.labels]
    predictions = client.predict_many((session.path(n) for n in unlabelled), model, top_k=len(labels))
    return ranked(unlabelled, labels, np.stack([_probabilities(p, labels) for p in predictions]))


def _probabilities(prediction, labels: Iterable[str]) -> np.ndarray:
    scores = {s.label: s.probability for s in prediction.top}
    return np.array([scores.get(label, 0.0) for label in labels], dtype=np.float64)
