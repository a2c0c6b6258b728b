"""scikit-learn heads on feature vectors: build, export to ONNX (job processes only)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from bioclass.server.classical.spec import FITTED_HEADS, PROBABILITIES

FOREST_TREES = 500
BOOSTING_STAGES = 100
OPSETS = {"": 17, "ai.onnx.ml": 3}  # every exported head's, so a vote can merge their graphs


def build(head: str, seed: int, threads: int) -> Pipeline:
    """The linear model standardises first; trees take the features as they are (a float32 scaler in ONNX
    would round differently from scikit-learn's float64 one and move values across split thresholds)."""
    if head == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
    if head == "random_forest":
        model = RandomForestClassifier(FOREST_TREES, random_state=seed, n_jobs=max(1, threads))
    elif head == "gradient_boosting":
        # Not HistGradientBoosting: its ONNX converter fails on the installed onnx (bool attributes).
        model = GradientBoostingClassifier(n_estimators=BOOSTING_STAGES, random_state=seed)
    else:
        raise ValueError(f"unknown classical head {head!r}; known: {', '.join(FITTED_HEADS)}")
    return make_pipeline(model)


# Heads that grow (the forest's trees, boosting's stages) and can stop at a deadline with what they have.
GROWN = {"random_forest": FOREST_TREES, "gradient_boosting": BOOSTING_STAGES}
FOREST_CHUNK = 50  # trees added at a time, so a forest checks its deadline (and a cancel) between chunks
FEWEST_STAGES = 20  # boosting that cannot grow this many stages is not worth its time


def fit(head: str, x: np.ndarray, y: np.ndarray, seed: int, threads: int, *, balanced: bool,
        deadline: float | None = None, size: int | None = None, stop=None) -> Pipeline:
    """The head fitted, with balanced class weights when asked (every class weighs as much in total, as the
    networks' weighted loss does): microscopy sets are often strongly imbalanced. Unweighted, it fits the
    classes' frequencies, which is what plain accuracy rewards.

    A growing head's cost grows with the classes: on 2,039 feature rows of 73 classes (the held-out
    many-class set's shape, 2 threads) the 500-tree forest took 45 s and one boosting stage (a tree per
    class) 20 s, where 420 wbc cells of 4 classes took 1.1 and 0.13. So it stops growing at `deadline`
    (time.perf_counter()), or grows exactly `size` (trees or stages); `stop` is called as it grows (a
    cancelled job raises there)."""
    from sklearn.utils.class_weight import compute_sample_weight

    model = build(head, seed, threads)
    step = model.steps[-1][0]
    options = {f"{step}__sample_weight": compute_sample_weight("balanced", y)} if balanced else {}
    if head == "gradient_boosting":
        model.set_params(**{f"{step}__n_estimators": size or BOOSTING_STAGES})
        return model.fit(x, y, **options, **{f"{step}__monitor": _stage_monitor(deadline, stop)})
    if head == "random_forest":
        return _grown_forest(model, x, y, options, size or FOREST_TREES, deadline, stop)
    return model.fit(x, y, **options)


def fitted_size(model: Pipeline) -> int | None:
    """A growing head's trees or stages (fewer than asked when its deadline came); None for other heads."""
    estimator = model[-1]
    if hasattr(estimator, "n_estimators_"):
        return int(estimator.n_estimators_)
    return len(estimator.estimators_) if isinstance(estimator, RandomForestClassifier) else None


def _grown_forest(model: Pipeline, x, y, options: dict, trees: int, deadline: float | None, stop) -> Pipeline:
    """The forest grown FOREST_CHUNK trees at a time (warm start: scikit-learn draws the new trees' seeds as
    one fit of that many trees would) until `trees` or the deadline."""
    forest = model[-1]
    forest.set_params(warm_start=True, n_estimators=0)
    while forest.n_estimators < trees:
        forest.set_params(n_estimators=min(trees, forest.n_estimators + FOREST_CHUNK))
        model.fit(x, y, **options)
        if stop is not None:
            stop()
        if deadline is not None and time.perf_counter() > deadline:
            break
    forest.set_params(warm_start=False, n_estimators=len(forest.estimators_))
    return model


def _stage_monitor(deadline: float | None, stop):
    """scikit-learn calls it after each boosting stage; True ends the fit there, keeping the stages so far."""
    def monitor(stage: int, estimator, local_variables) -> bool:
        if stop is not None:
            stop()
        return deadline is not None and time.perf_counter() > deadline
    return monitor


def all_classes(model: Pipeline, probabilities: np.ndarray, classes: int) -> np.ndarray:
    """Columns for every label (a fold's training part may lack a rare class)."""
    full = np.zeros((len(probabilities), classes), np.float64)
    full[:, model.classes_] = probabilities
    return full


def export_onnx(model: Pipeline, features: int, path: Path) -> None:
    """The fitted head as ONNX: float32 features in, class probabilities (B, K) out."""
    from skl2onnx import to_onnx

    for tree in _trees(model[-1]):
        _float32_thresholds(tree.tree_)
    onnx_model = to_onnx(model, np.zeros((1, features), np.float32), options={"zipmap": False},
                         target_opset=OPSETS)
    path.write_bytes(onnx_model.SerializeToString())


def export_vote(members: list[Path], path: Path) -> None:
    """One ONNX graph for the soft vote: each member head's graph, renamed apart, reads the same features,
    and ONNX's Mean averages their probabilities (B, K) into the output the classical backend reads."""
    import onnx
    from onnx import compose, helper

    loaded = [onnx.load(str(member)) for member in members]
    graphs = [compose.add_prefix(m, f"m{i}_", rename_inputs=False).graph for i, m in enumerate(loaded)]
    features = graphs[0].input[0]
    if any(g.input[0] != features for g in graphs):
        raise ValueError("the heads of a vote must read the same features")
    nodes = [node for g in graphs for node in g.node]
    nodes.append(helper.make_node("Mean", [f"m{i}_{PROBABILITIES}" for i in range(len(graphs))], [PROBABILITIES]))
    output = helper.make_tensor_value_info(PROBABILITIES, onnx.TensorProto.FLOAT, ["N", None])
    graph = helper.make_graph(nodes, "soft_vote", [features], [output],
                              initializer=[tensor for g in graphs for tensor in g.initializer])
    opsets = [helper.make_opsetid(domain, version) for domain, version in OPSETS.items()]
    model = helper.make_model(graph, opset_imports=opsets,
                              ir_version=min(m.ir_version for m in loaded))
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def _trees(model) -> list:
    estimators = getattr(model, "estimators_", [])
    return list(np.ravel(estimators)) if len(estimators) and hasattr(np.ravel(estimators)[0], "tree_") else []


def _float32_thresholds(tree) -> None:
    """Round each split threshold down to a float32, in place. scikit-learn compares float32 features with
    float64 thresholds (midpoints between two training values); ONNX stores float32 thresholds, and
    rounding to nearest can put a training value on the other side of its split. For float32 x,
    x <= t exactly when x <= the largest float32 not above t, so predictions stay the same."""
    thresholds = tree.threshold
    nearest = thresholds.astype(np.float32)
    below = np.where(nearest.astype(np.float64) > thresholds, np.nextafter(nearest, np.float32(-np.inf)), nearest)
    thresholds[:] = below.astype(np.float64)
