"""Classification measures (DeepClas4Bio's set): from true labels and predicted probabilities."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class ClassMeasures:
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    auroc: float


@dataclass
class Measures:
    images: int
    accuracy: float
    balanced_accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    mcc: float
    cohen_kappa: float
    auroc: float
    top_k_accuracy: float
    top_k: int
    per_class: list[ClassMeasures] = field(default_factory=list)
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))


def compute(truth: np.ndarray, probabilities: np.ndarray, labels: list[str], top_k: int) -> Measures:
    """truth: (N,) class indices; probabilities: (N, K) rows of class probabilities."""
    classes = len(labels)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    precision, recall, f1 = _per_class_prf(confusion)
    present = confusion.sum(axis=1) > 0
    aurocs = [_auroc(truth == k, probabilities[:, k]) for k in range(classes)]
    top_k = max(1, min(top_k, classes))
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_k]
    return Measures(
        images=len(truth),
        accuracy=_safe(np.trace(confusion), confusion.sum()),
        balanced_accuracy=float(recall[present].mean()) if present.any() else math.nan,
        precision_macro=float(precision[present].mean()) if present.any() else math.nan,
        recall_macro=float(recall[present].mean()) if present.any() else math.nan,
        f1_macro=float(f1[present].mean()) if present.any() else math.nan,
        mcc=_mcc(confusion),
        cohen_kappa=_kappa(confusion),
        auroc=aurocs[1] if classes == 2 else _nanmean([a for a, p in zip(aurocs, present) if p]),
        top_k_accuracy=float((top == truth[:, None]).any(axis=1).mean()) if len(truth) else math.nan,
        top_k=top_k,
        per_class=[ClassMeasures(labels[k], float(precision[k]), float(recall[k]), float(f1[k]),
                                 int(confusion[k].sum()), aurocs[k]) for k in range(classes)],
        confusion=confusion,
    )


def to_dict(m: Measures) -> dict:
    """JSON-ready: what a training job stores in its result."""
    values = dataclasses.asdict(m)
    values["confusion"] = m.confusion.tolist()
    return values


def from_dict(values: dict) -> Measures:
    """The inverse of to_dict; other keys (a job's "split") are ignored."""
    scalars = {f.name: values[f.name] for f in dataclasses.fields(Measures) if f.name not in ("per_class", "confusion")}
    return Measures(**scalars, per_class=[ClassMeasures(**c) for c in values["per_class"]],
                    confusion=np.asarray(values["confusion"], np.int64))


def _per_class_prf(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    true_pos = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0).astype(float)
    actual = confusion.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_pos / predicted, 0.0)
        recall = np.where(actual > 0, true_pos / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1


def _mcc(confusion: np.ndarray) -> float:
    """Multi-class Matthews correlation (Gorodkin's R_K)."""
    c = confusion.astype(float)
    samples, correct = c.sum(), np.trace(c)
    pred, true = c.sum(axis=0), c.sum(axis=1)
    denominator = math.sqrt((samples ** 2 - pred @ pred) * (samples ** 2 - true @ true))
    return float((correct * samples - pred @ true) / denominator) if denominator else 0.0


def _kappa(confusion: np.ndarray) -> float:
    c = confusion.astype(float)
    samples = c.sum()
    if not samples:
        return math.nan
    observed = np.trace(c) / samples
    expected = (c.sum(axis=0) @ c.sum(axis=1)) / samples ** 2
    return float((observed - expected) / (1 - expected)) if expected < 1 else 0.0


def _auroc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve by the rank statistic (ties count one half)."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return math.nan
    ranks = _average_ranks(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), float)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _safe(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else math.nan


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan
