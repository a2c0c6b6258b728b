"""Measures against values worked out by hand."""
import math

import numpy as np
import pytest

from bioclass.server.measures import compute


def one_hot(predicted, classes):
    probs = np.full((len(predicted), classes), 0.1 / max(1, classes - 1))
    probs[np.arange(len(predicted)), predicted] = 0.9
    return probs


def test_binary_measures():
    truth = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    predicted = np.array([0, 0, 1, 1, 1, 1, 1, 0])
    m = compute(truth, one_hot(predicted, 2), ["neg", "pos"], top_k=1)
    # TP(pos)=4, FN=1, FP=1, TN=2
    assert m.accuracy == pytest.approx(6 / 8)
    assert m.confusion.tolist() == [[2, 1], [1, 4]]
    assert m.per_class[1].precision == pytest.approx(4 / 5)
    assert m.per_class[1].recall == pytest.approx(4 / 5)
    assert m.per_class[0].recall == pytest.approx(2 / 3)
    assert m.balanced_accuracy == pytest.approx((2 / 3 + 4 / 5) / 2)
    mcc = (4 * 2 - 1 * 1) / math.sqrt(5 * 5 * 3 * 3)
    assert m.mcc == pytest.approx(mcc)
    po, pe = 6 / 8, (3 * 3 + 5 * 5) / 64
    assert m.cohen_kappa == pytest.approx((po - pe) / (1 - pe))
    assert m.top_k_accuracy == pytest.approx(6 / 8)


def test_auroc_rank_statistic_with_ties():
    truth = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    probs = np.stack([1 - scores, scores], axis=1)
    m = compute(truth, probs, ["a", "b"], top_k=1)
    assert m.auroc == pytest.approx(0.75)
    tied = compute(truth, np.full((4, 2), 0.5), ["a", "b"], top_k=1)
    assert tied.auroc == pytest.approx(0.5)


def test_multiclass_perfect_and_top_k():
    truth = np.array([0, 1, 2, 2])
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    m = compute(truth, probs, ["a", "b", "c"], top_k=2)
    assert m.accuracy == pytest.approx(0.75)
    assert m.top_k == 2 and m.top_k_accuracy == pytest.approx(0.75)  # last: c is third
    m3 = compute(truth, probs, ["a", "b", "c"], top_k=3)
    assert m3.top_k_accuracy == 1.0
    assert m.per_class[2].auroc == pytest.approx(1.0)  # c's scores 0.7, 0.2 vs 0.1, 0.1
    assert 0 < m.auroc <= 1


def test_absent_class_is_nan_auroc_and_ignored_in_macro():
    truth = np.array([0, 0, 1])
    m = compute(truth, one_hot(np.array([0, 0, 1]), 3), ["a", "b", "c"], top_k=1)
    assert math.isnan(m.per_class[2].auroc)
    assert m.f1_macro == pytest.approx(1.0)
    assert m.mcc == pytest.approx(1.0) and m.cohen_kappa == pytest.approx(1.0)
