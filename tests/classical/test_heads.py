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


def test_gradient_boosting_stops_at_its_deadline_and_exports_the_stages_it_kept(tmp_path):
    """Boosting grows a tree per class and stage: with dozens of classes a fit takes minutes, so it stops
    adding stages at its deadline; the final fit takes exactly the stages its folds reached, and the ONNX
    export of a shortened model gives scikit-learn's probabilities."""
    import time

    import onnxruntime

    x, y = _overlapping(60, 60, seed=0)
    late = heads.fit("gradient_boosting", x, y, seed=0, threads=1, balanced=True, deadline=time.perf_counter() - 1)
    assert heads.fitted_stages(late) == 1  # the stage scikit-learn fits before it first asks
    fixed = heads.fit("gradient_boosting", x, y, seed=0, threads=1, balanced=True, stages=7)
    assert heads.fitted_stages(fixed) == 7
    assert heads.fitted_stages(heads.fit("gradient_boosting", x, y, seed=0, threads=1, balanced=False)) \
        == heads.BOOSTING_STAGES
    assert heads.fitted_stages(heads.fit("random_forest", x, y, seed=0, threads=1, balanced=False)) is None
    heads.export_onnx(late, x.shape[1], tmp_path / "head.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "head.onnx"), providers=["CPUExecutionProvider"])
    served = session.run(["probabilities"], {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(served, late.predict_proba(x), atol=1e-5)


def test_a_cancelled_job_stops_gradient_boosting_between_stages():
    x, y = _overlapping(60, 60, seed=0)
    calls = []

    def stop():
        calls.append(1)
        if len(calls) == 3:
            raise InterruptedError("cancelled")

    with pytest.raises(InterruptedError):
        heads.fit("gradient_boosting", x, y, seed=0, threads=1, balanced=True, stop=stop)
    assert len(calls) == 3
