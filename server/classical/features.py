"""Computes a FeatureSpec's features from prepared images (job and model processes only).

Input is what bioclass.server.preprocess.prepare gives the model: (C, H, W) float32 at the card's
size and intensity scale, so training and serving see the same pixels. Texture is measured on each
channel stretched to its own 0.5-99.5 percentiles (robust to exposure); the intensity statistics
keep the card's scale (absolute brightness can be the signal).
"""
from __future__ import annotations

import mahotas
import numpy as np
from scipy import stats
from skimage import feature, filters, measure, transform

from bioclass.server.classical.spec import FeatureSpec

LBP_POINTS, LBP_RADIUS = 8, 1
ROBUST_PERCENTILES = (0.5, 99.5)
SHAPE_SIZE = 128  # Zernike moments and objects are measured at most this large: shapes need no finer detail
MIN_OBJECT_PIXELS = 4


def compute(batch: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """(B, C, H, W) float32 -> (B, F) float32; F depends only on C and the spec."""
    return np.stack([image_features(image, spec) for image in batch]).astype(np.float32)


def image_features(image: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    return np.concatenate([channel_features(channel, spec) for channel in image])


def channel_features(pixels: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    unit = _stretched(pixels)
    shapes = _shrunk(unit, SHAPE_SIZE)
    parts = [_intensity(pixels), _histogram(unit, spec.histogram_bins), _zernike(shapes, spec.zernike_degree),
             _objects(shapes)]
    level = unit
    for scale in range(spec.scales):
        if scale:
            level = transform.downscale_local_mean(level, (2, 2)) if min(level.shape) >= 8 else level
        parts.append(_texture(level, spec.grey_levels))
    return np.nan_to_num(np.concatenate(parts), nan=0.0, posinf=0.0, neginf=0.0)


def _stretched(pixels: np.ndarray) -> np.ndarray:
    low, high = np.percentile(pixels, ROBUST_PERCENTILES)
    if high <= low:
        return np.zeros_like(pixels, dtype=np.float64)
    return np.clip((pixels - low) / (high - low), 0.0, 1.0)


def _shrunk(unit: np.ndarray, size: int) -> np.ndarray:
    factor = max(1, -(-max(unit.shape) // size))
    return transform.downscale_local_mean(unit, (factor, factor)) if factor > 1 else unit


def _intensity(pixels: np.ndarray) -> np.ndarray:
    flat = pixels.ravel().astype(np.float64)
    spread = flat.std()
    shape = (stats.skew(flat), stats.kurtosis(flat)) if spread > 0 else (0.0, 0.0)
    return np.array([flat.mean(), spread, flat.min(), flat.max(), *np.percentile(flat, (5, 25, 50, 75, 95)), *shape])


def _histogram(unit: np.ndarray, bins: int) -> np.ndarray:
    counts, _ = np.histogram(unit, bins=bins, range=(0.0, 1.0))
    return counts / max(1, unit.size)


def _zernike(unit: np.ndarray, degree: int) -> np.ndarray:
    radius = max(1, min(unit.shape) // 2)
    return mahotas.features.zernike_moments(unit, radius, degree=degree)


def _objects(unit: np.ndarray) -> np.ndarray:
    """Otsu foreground: its fraction, the objects per 10,000 pixels and their size and elongation."""
    if unit.max() <= unit.min():
        return np.zeros(6)
    mask = unit > filters.threshold_otsu(unit)
    areas, elongation = _object_shapes(measure.label(mask))
    if not len(areas):
        return np.array([mask.mean(), 0.0, 0.0, 0.0, 0.0, 0.0])
    areas = areas / unit.size
    return np.array([mask.mean(), 1e4 * len(areas) / unit.size, areas.mean(), areas.std(), areas.max(),
                     elongation.mean()])


def _object_shapes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area and eccentricity of every object of at least MIN_OBJECT_PIXELS, from its second moments
    (bincounts: regionprops is far slower on the many small objects of a noisy field)."""
    flat = labels.ravel()
    rows, cols = np.indices(labels.shape)

    def sums(values: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(flat, weights=None if values is None else values.ravel())[1:]

    area = sums()
    kept = area >= MIN_OBJECT_PIXELS
    area = area[kept]
    mean_r, mean_c = sums(rows)[kept] / area, sums(cols)[kept] / area
    var_r = sums(rows * rows)[kept] / area - mean_r ** 2
    var_c = sums(cols * cols)[kept] / area - mean_c ** 2
    cov = sums(rows * cols)[kept] / area - mean_r * mean_c
    half_gap = np.sqrt(((var_r - var_c) / 2) ** 2 + cov ** 2)
    major, minor = (var_r + var_c) / 2 + half_gap, np.maximum((var_r + var_c) / 2 - half_gap, 0.0)
    eccentricity = np.sqrt(1.0 - minor / np.maximum(major, 1e-12))
    return area, eccentricity


def _texture(unit: np.ndarray, levels: int) -> np.ndarray:
    """Haralick (mean and range over directions), uniform LBP histogram, gradient statistics."""
    quantised = np.minimum((unit * levels).astype(np.uint8), levels - 1)
    try:
        haralick = mahotas.features.haralick(quantised, distance=1)
        haralick = np.concatenate([haralick.mean(axis=0), np.ptp(haralick, axis=0)])
    except ValueError:  # a constant image has no co-occurrences
        haralick = np.zeros(26)
    lbp = feature.local_binary_pattern(quantised, LBP_POINTS, LBP_RADIUS, method="uniform")
    lbp_hist, _ = np.histogram(lbp, bins=LBP_POINTS + 2, range=(0, LBP_POINTS + 2))
    gradient = filters.sobel(unit)
    return np.concatenate([haralick, lbp_hist / max(1, lbp.size), [gradient.mean(), gradient.std()]])
