"""The classical heads follow the run's imbalance choice: balanced class weights by default (every class weighs
as much in total), the classes' own frequencies when a run ranks by plain accuracy."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from bioclass.server.classical import heads


def _overlapping(rare: int, common: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes one standard deviation apart, common:rare images."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0.0, 1.0, (common, 4)), rng.normal(1.0, 1.0, (rare, 4))])
    return x.astype(np.float32), np.array([0] * common + [1] * rare)


@pytest.mark.parametrize("head", ["logistic_regression", "random_forest", "gradient_boosting"])
def test_balanced_heads_trade_accuracy_for_the_rare_class(head):
    x, y = _overlapping(40, 400, seed=0)
    test_x, test_y = _overlapping(200, 2000, seed=1)  # the same 10:1 frequencies
    found = {}
    for balanced in (True, False):
        predicted = heads.fit(head, x, y, seed=0, threads=1, balanced=balanced).predict(test_x)
        found[balanced] = (accuracy_score(test_y, predicted), balanced_accuracy_score(test_y, predicted),
                           int((predicted == 1).sum()))
    assert found[True][2] > found[False][2]  # weighted up, the rare class is predicted more often
    assert found[True][1] > found[False][1]  # which balanced accuracy rewards
    assert found[False][0] > found[True][0]  # and plain accuracy does not
