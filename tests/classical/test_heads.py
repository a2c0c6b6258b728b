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



@pytest.mark.parametrize("head, fewest", [("random_forest", heads.FOREST_CHUNK), ("gradient_boosting", 1)])
def test_growing_heads_stop_at_their_deadline_and_export_what_they_grew(head, fewest, tmp_path):
    """With dozens of classes a forest or boosting fit takes minutes, so a growing head stops at its
    deadline with the trees or stages it has (a forest grows a chunk, boosting a stage, before it first
    checks); the final fit grows exactly the size its folds reached, and the ONNX export of a shortened
    model gives scikit-learn's probabilities."""
    import time

    import onnxruntime

    x, y = _overlapping(60, 60, seed=0)
    late = heads.fit(head, x, y, seed=0, threads=1, balanced=True, deadline=time.perf_counter() - 1)
    assert heads.fitted_size(late) == fewest
    assert heads.fitted_size(heads.fit(head, x, y, seed=0, threads=1, balanced=True, size=70)) == 70
    assert heads.fitted_size(heads.fit(head, x, y, seed=0, threads=1, balanced=False)) == heads.GROWN[head]
    heads.export_onnx(late, x.shape[1], tmp_path / "head.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "head.onnx"), providers=["CPUExecutionProvider"])
    served = session.run(["probabilities"], {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(served, late.predict_proba(x), atol=1e-5)


def test_a_forest_grown_in_chunks_is_the_forest_grown_at_once():
    from sklearn.ensemble import RandomForestClassifier

    x, y = _overlapping(60, 60, seed=0)
    chunked = heads.fit("random_forest", x, y, seed=3, threads=1, balanced=False, size=120)
    at_once = RandomForestClassifier(120, random_state=3).fit(x, y)
    np.testing.assert_array_equal(chunked.predict_proba(x), at_once.predict_proba(x))
    assert heads.fitted_size(heads.fit("logistic_regression", x, y, seed=0, threads=1, balanced=False)) is None


@pytest.mark.parametrize("head", ["random_forest", "gradient_boosting"])
def test_a_cancelled_job_stops_a_growing_head(head):
    x, y = _overlapping(60, 60, seed=0)
    calls = []

    def stop():
        calls.append(1)
        if len(calls) == 3:
            raise InterruptedError("cancelled")

    with pytest.raises(InterruptedError):
        heads.fit(head, x, y, seed=0, threads=1, balanced=True, stop=stop)
    assert len(calls) == 3
