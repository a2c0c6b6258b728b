"""How AutoML validates a candidate: k-fold cross-validation on a small dataset, the run's split on a large one.

A validation split of a few dozen images cannot rank candidates (one image is several points), so below
CV_MAX_IMAGES every labelled image is validated exactly once, in stratified folds that keep each group
(patient, slide: the dataset's group_pattern) inside one fold. Imported in job processes (scikit-learn).
"""
from __future__ import annotations

import numpy as np

CV_MAX_IMAGES = 300
# Heads on precomputed features (the classical and frozen-features candidates) cost seconds per fold, not a
# network's training: they are cross-validated up to here. On blood-cells-wbc (420 images, one split of 84)
# logistic regression led the forest by two validation images and was served, 0.939 against the forest's 0.983
# on the test cells; over 5 folds of all 420 the forest led (0.950 against 0.948).
FEATURES_CV_MAX_IMAGES = 1000
MAX_FOLDS = 5
MIN_FOLDS = 2


def ranking_folds(targets: np.ndarray, groups: list[str] | None, splits: list[str],
                  seed: int, most: int = MAX_FOLDS, largest: int = CV_MAX_IMAGES
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, validation indices) per fold, at most `most` folds; the run's split from `largest`
    images on."""
    k = min(most, fold_count(targets, groups))
    if len(targets) >= largest or k < MIN_FOLDS:
        where = np.asarray(splits)
        return [(np.flatnonzero(where == "train"), np.flatnonzero(where == "val"))]
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if groups is not None:
        splitter = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(targets)), targets, groups))
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(targets)), targets))


def fold_count(targets: np.ndarray, groups: list[str] | None) -> int:
    """At most MAX_FOLDS, and no more than the smallest class has images (or the dataset groups)."""
    k = min(MAX_FOLDS, int(np.bincount(targets).min(initial=MAX_FOLDS, where=np.bincount(targets) > 0)))
    return min(k, len(set(groups))) if groups is not None else k
