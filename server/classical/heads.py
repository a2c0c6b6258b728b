"""scikit-learn heads on feature vectors: build, export to ONNX (job processes only)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
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
        # Histogram-based: a stage bins the features once and builds its trees from histograms, so it grows
        # many classes' stages in a fraction of the time exact trees took (boosting_onnx exports it).
        model = HistGradientBoostingClassifier(max_iter=BOOSTING_STAGES, early_stopping=False, random_state=seed)
    else:
        raise ValueError(f"unknown classical head {head!r}; known: {', '.join(FITTED_HEADS)}")
    return make_pipeline(model)


# Heads that grow (the forest's trees, boosting's stages) and can stop at a deadline with what they have:
# each grows by warm start, a chunk at a time, and checks its deadline (and a cancel) between chunks.
GROWN = {"random_forest": FOREST_TREES, "gradient_boosting": BOOSTING_STAGES}
FOREST_CHUNK = 50  # trees
BOOSTING_CHUNK = 5  # stages
FEWEST_STAGES = 20  # boosting that cannot grow this many stages is not worth its time
_GROWTH = {"random_forest": ("n_estimators", FOREST_CHUNK), "gradient_boosting": ("max_iter", BOOSTING_CHUNK)}
MOST_LEAF_ROWS = 20  # a boosting leaf's fewest rows on large sets (scikit-learn's default)


def fit(head: str, x: np.ndarray, y: np.ndarray, seed: int, threads: int, *, balanced: bool,
        deadline: float | None = None, size: int | None = None, stop=None) -> Pipeline:
    """The head fitted, with balanced class weights when asked (every class weighs as much in total, as the
    networks' weighted loss does): microscopy sets are often strongly imbalanced. Unweighted, it fits the
    classes' frequencies, which is what plain accuracy rewards.

    A growing head's cost grows with the classes: on 2,039 feature rows of 73 classes (the held-out
    many-class set's shape, 2 threads) the 500-tree forest took 45 s, where 420 wbc cells of 4 classes took
    1.1. So it stops growing at `deadline` (time.perf_counter()), or grows exactly `size` (trees or stages);
    `stop` is called as it grows (a cancelled job raises there)."""
    from sklearn.utils.class_weight import compute_sample_weight
    from threadpoolctl import threadpool_limits

    model = build(head, seed, threads)
    step = model.steps[-1][0]
    options = {f"{step}__sample_weight": compute_sample_weight("balanced", y)} if balanced else {}
    if head == "gradient_boosting":
        model[-1].set_params(min_samples_leaf=leaf_rows(len(y), len(np.unique(y))))
    with threadpool_limits(max(1, threads), user_api="openmp"):  # boosting's threads: the job's, not every core
        if head in GROWN:
            return _grown(model, head, x, y, options, size or GROWN[head], deadline, stop)
        return model.fit(x, y, **options)


def leaf_rows(rows: int, classes: int) -> int:
    """A boosting leaf's fewest rows: scikit-learn's 20 on large sets, fewer on tiny ones (24 images of two
    classes could not split at all with 20)."""
    return int(np.clip(rows // (10 * max(1, classes)), 1, MOST_LEAF_ROWS))


def fitted_size(model: Pipeline) -> int | None:
    """A growing head's trees or stages (fewer than asked when its deadline came); None for other heads."""
    estimator = model[-1]
    if isinstance(estimator, HistGradientBoostingClassifier):
        return int(estimator.n_iter_)
    return len(estimator.estimators_) if isinstance(estimator, RandomForestClassifier) else None


def _grown(model: Pipeline, head: str, x, y, options: dict, size: int, deadline: float | None, stop) -> Pipeline:
    """The head grown a chunk at a time (warm start: the forest draws its new trees' seeds as one fit of that
    many trees would; boosting adds stages as one longer fit would) until `size` or the deadline."""
    estimator, (param, chunk) = model[-1], _GROWTH[head]
    estimator.set_params(warm_start=True)
    grown = 0
    while grown < size:
        estimator.set_params(**{param: min(size, grown + chunk)})
        model.fit(x, y, **options)
        grown = fitted_size(model)
        if stop is not None:
            stop()
        if deadline is not None and time.perf_counter() > deadline:
            break
    estimator.set_params(warm_start=False, **{param: grown})
    return model


def all_classes(model: Pipeline, probabilities: np.ndarray, classes: int) -> np.ndarray:
    """Columns for every label (a fold's training part may lack a rare class)."""
    full = np.zeros((len(probabilities), classes), np.float64)
    full[:, model.classes_] = probabilities
    return full


def export_onnx(model: Pipeline, features: int, path: Path) -> None:
    """The fitted head as ONNX: float32 features in, class probabilities (B, K) out."""
    if isinstance(model[-1], HistGradientBoostingClassifier):
        path.write_bytes(boosting_onnx(model[-1], features).SerializeToString())
        return
    from skl2onnx import to_onnx

    for tree in _trees(model[-1]):
        tree.tree_.threshold[:] = float32_below(tree.tree_.threshold)
    onnx_model = to_onnx(model, np.zeros((1, features), np.float32), options={"zipmap": False},
                         target_opset=OPSETS)
    path.write_bytes(onnx_model.SerializeToString())


def boosting_onnx(booster: HistGradientBoostingClassifier, features: int):
    """Histogram gradient boosting as ONNX: its trees in one TreeEnsembleRegressor summing each class's raw
    score from the booster's baseline, then softmax (a sigmoid for two classes), as predict_proba does.
    Written here because skl2onnx's converter fails on the installed onnx (it passes bools as ints)."""
    import onnx
    from onnx import TensorProto, helper

    targets = booster.n_trees_per_iteration_
    trees = [(iteration * targets + target, target, predictor.nodes)
             for iteration, predictors in enumerate(booster._predictors)
             for target, predictor in enumerate(predictors)]
    if any(nodes["is_categorical"].any() for _, _, nodes in trees):
        raise ValueError("categorical splits are not exported")  # never fitted here: features are numbers
    attributes = _tree_attributes(trees)
    ensemble = helper.make_node("TreeEnsembleRegressor", ["X"], ["scores"], domain="ai.onnx.ml", n_targets=targets,
                                aggregate_function="SUM", post_transform="NONE",
                                base_values=[float(v) for v in np.ravel(booster._baseline_prediction)], **attributes)
    if targets == 1:  # two classes: the score is the second class's log-odds
        nodes = [ensemble, helper.make_node("Sigmoid", ["scores"], ["second"]),
                 helper.make_node("Sub", ["one", "second"], ["first"]),
                 helper.make_node("Concat", ["first", "second"], [PROBABILITIES], axis=1)]
        constants = [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])]
    else:
        nodes, constants = [ensemble, helper.make_node("Softmax", ["scores"], [PROBABILITIES], axis=1)], []
    graph = helper.make_graph(
        nodes, "hist_gradient_boosting", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, features])],
        [helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, [None, len(booster.classes_)])],
        initializer=constants)
    opsets = [helper.make_opsetid(domain, version) for domain, version in OPSETS.items()]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model)
    return model


def _tree_attributes(trees: list[tuple[int, int, np.ndarray]]) -> dict[str, list]:
    """TreeEnsembleRegressor's node and leaf lists for (tree id, target, scikit-learn's predictor nodes).
    A node sends x <= threshold (and a missing value where scikit-learn does) to its left child."""
    columns: dict[str, list] = {key: [] for key in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes", "nodes_truenodeids",
        "nodes_falsenodeids", "nodes_missing_value_tracks_true", "target_treeids", "target_nodeids", "target_ids",
        "target_weights")}
    for tree, target, nodes in trees:
        leaf, ids = nodes["is_leaf"].astype(bool), np.arange(len(nodes))
        branch = ~leaf
        columns["nodes_treeids"] += [tree] * len(nodes)
        columns["nodes_nodeids"] += ids.tolist()
        columns["nodes_featureids"] += np.where(branch, nodes["feature_idx"], 0).astype(int).tolist()
        columns["nodes_values"] += np.where(branch, float32_below(nodes["num_threshold"]), 0.0).tolist()
        columns["nodes_modes"] += np.where(branch, "BRANCH_LEQ", "LEAF").tolist()
        columns["nodes_truenodeids"] += np.where(branch, nodes["left"], 0).astype(int).tolist()
        columns["nodes_falsenodeids"] += np.where(branch, nodes["right"], 0).astype(int).tolist()
        columns["nodes_missing_value_tracks_true"] += np.where(branch, nodes["missing_go_to_left"], 0).astype(int).tolist()
        columns["target_treeids"] += [tree] * int(leaf.sum())
        columns["target_nodeids"] += ids[leaf].tolist()
        columns["target_ids"] += [target] * int(leaf.sum())
        columns["target_weights"] += nodes["value"][leaf].astype(float).tolist()
    return columns


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


def float32_below(thresholds: np.ndarray) -> np.ndarray:
    """Each split threshold rounded down to a float32. scikit-learn compares float32 features with float64
    thresholds (midpoints between two training values); ONNX stores float32 thresholds, and rounding to
    nearest can put a training value on the other side of its split. For float32 x, x <= t exactly when
    x <= the largest float32 not above t, so predictions stay the same."""
    thresholds = np.asarray(thresholds, np.float64)
    nearest = thresholds.astype(np.float32)
    below = np.where(nearest.astype(np.float64) > thresholds, np.nextafter(nearest, np.float32(-np.inf)), nearest)
    return below.astype(np.float64)
