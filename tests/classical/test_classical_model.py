"""A classical candidate: cross-validated on a tiny set, exported (card + ONNX head), served, and answering
through Predict and the Open Inference Protocol as the scikit-learn head does in this process."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bioclass.images import decode_encoded
from bioclass.server.automl import folds
from bioclass.server.cards import read_card
from bioclass.server.classical import features, heads
from bioclass.server.classical.spec import FITTED_HEADS, HEADS, VOTE
from bioclass.server.preprocess import prepare
from bioclass.server.training import datasets
from bioclass.server.training.config import DatasetSpec

from classical_support import PER_CLASS, oip_infer

MODEL = "malaria-classical"


def test_a_tiny_set_is_ranked_by_k_fold_with_every_image_validated_once(classical_job):
    plan, result, reporter = classical_job
    validation = result["validation"]
    assert validation["folds"] == folds.MAX_FOLDS == 5 and validation["images"] == 2 * PER_CLASS
    assert validation["validated"] == [1] * (2 * PER_CLASS)
    assert f"5-fold validation of {2 * PER_CLASS} images" in reporter.lines
    assert [c["head"] for c in result["candidates"]] == list(HEADS)
    assert result["candidates"][-1]["members"] == list(FITTED_HEADS)
    assert f"{VOTE}: the mean of {', '.join(FITTED_HEADS)}" in reporter.lines
    for candidate in result["candidates"]:
        assert all(len(scores) == 5 and all(0.0 <= s <= 1.0 for s in scores)
                   for scores in candidate["scores"].values())


def test_the_exported_card_declares_the_features_and_the_served_input(classical_job):
    _, result, _ = classical_job
    forest = next(c for c in result["candidates"] if c["head"] == "random_forest")
    card = read_card(Path(forest["export_dir"]))
    assert (card.framework, card.weights, card.architecture) == ("classical", "head.onnx", "classical:random_forest")
    assert card.input.size == (50, 50) and card.input.channels == 3 and card.preprocessing.scale == "range"
    assert card.tiling is None  # small crops are computed whole
    assert card.features.name == "bioclass-texture" and card.features.version == 1
    assert card.labels == ("Parasitized", "Uninfected") and card.output.activation == "none"


@pytest.fixture(scope="module")
def job_features(classical_job):
    """The job's features recomputed here from its images: (card, image paths, x, y)."""
    plan, result, _ = classical_job
    forest = next(c for c in result["candidates"] if c["head"] == "random_forest")
    card = read_card(Path(forest["export_dir"]))
    samples, _ = datasets.resolve_samples(plan.dataset_root, DatasetSpec(server_dir="malaria"))
    paths = [plan.dataset_root / s.path for s in samples]
    x = features.compute(np.stack([prepare(_decoded(p), card) for p in paths]), card.features)
    y = np.array([card.labels.index(s.label) for s in samples])
    return card, paths, x, y


@pytest.fixture(scope="module")
def in_process(refitted):
    """The random-forest head refitted here on the same features: (card, image paths, probabilities)."""
    card, paths, by_head = refitted
    return card, paths, by_head["random_forest"]


@pytest.fixture(scope="module")
def refitted(classical_job, job_features):
    """Every fitted head refitted here on the job's features: (card, image paths, {head: probabilities})."""
    plan, _, _ = classical_job
    card, paths, x, y = job_features
    return card, paths, {head: heads.fit(head, x, y, plan.config.seed, 1, balanced=True).predict_proba(x)
                         for head in FITTED_HEADS}


def test_the_soft_vote_is_served_as_the_mean_of_its_heads(classical_server, refitted, classical_job):
    from bioclass.client import Client

    _, result, _ = classical_job
    vote = result["candidates"][-1]
    assert read_card(Path(vote["export_dir"])).architecture == f"classical:{VOTE}"
    card, paths, by_head = refitted
    mean = np.mean([by_head[head] for head in FITTED_HEADS], axis=0)
    assert not np.allclose(mean, by_head["random_forest"], atol=1e-3)  # the vote is not one of its heads
    with Client(classical_server.address) as client:
        for path, probabilities in zip(paths[::4], mean[::4]):
            prediction = client.predict(str(path), "malaria-vote")
            assert prediction.probabilities == pytest.approx(list(probabilities), abs=1e-5)
            assert prediction.label == card.labels[int(np.argmax(probabilities))]


def test_the_soft_vote_scores_its_folds_as_the_mean_of_its_heads(classical_job, job_features):
    """Its fold scores come from its heads' fold probabilities; a head's own scores are recomputed here."""
    from bioclass.server.classical import train

    plan, result, _ = classical_job
    by_head = {c["head"]: c for c in result["candidates"]}
    card, _, x, y = job_features
    fold_list = folds.ranking_folds(y, None, ["train"] * len(y), plan.config.seed)
    per_head = {head: train.fold_probabilities(head, x, y, fold_list, 2, plan.config.seed, 1,
                                               balanced=True).probabilities
                for head in FITTED_HEADS}
    forest = train.fold_scores(y, fold_list, per_head["random_forest"], list(card.labels))
    assert forest["accuracy"] == pytest.approx(by_head["random_forest"]["scores"]["accuracy"])
    mean = [np.mean([per_head[h][k] for h in FITTED_HEADS], axis=0) for k in range(len(fold_list))]
    vote = train.fold_scores(y, fold_list, mean, list(card.labels))
    assert vote["balanced_accuracy"] == pytest.approx(by_head[VOTE]["scores"]["balanced_accuracy"])


def _decoded(path) -> np.ndarray:
    return decode_encoded(path.read_bytes(), 0, 50_000_000)


def test_predict_gives_the_in_process_probabilities(classical_server, in_process):
    from bioclass.client import Client

    card, paths, expected = in_process
    with Client(classical_server.address) as client:
        for path, probabilities in zip(paths[::5], expected[::5]):
            prediction = client.predict(str(path), MODEL)
            assert prediction.probabilities == pytest.approx(list(probabilities), abs=1e-5)
            assert prediction.label == card.labels[int(np.argmax(probabilities))]


def test_oip_gives_the_in_process_probabilities(classical_server, in_process):
    card, paths, expected = in_process
    result = oip_infer(classical_server.address, MODEL, np.stack([_decoded(p) for p in paths[:6]]), "UINT8")
    np.testing.assert_allclose(result.as_numpy("probabilities"), expected[:6], atol=1e-5)
    assert [label.decode() for label in result.as_numpy("label")] == [card.labels[i] for i in
                                                                        expected[:6].argmax(axis=1)]


def test_evaluate_gives_the_in_process_measures(classical_server, in_process, classical_job):
    from bioclass.client import Client

    plan, _, _ = classical_job
    card, paths, expected = in_process
    truth = np.array([card.labels.index(p.parent.name) for p in paths])
    with Client(classical_server.address) as client:
        (evaluation,) = client.evaluate(plan.dataset_root, [MODEL]).evaluations
    assert evaluation.images == len(paths)
    assert evaluation.accuracy == pytest.approx(float(np.mean(expected.argmax(axis=1) == truth)), abs=1e-9)


def test_growing_heads_share_the_job_time_left_and_boosting_is_left_out_when_it_cannot_grow(classical_job,
                                                                                            job_features):
    """The forest and boosting split the time left between them (logistic regression is not timed); each
    fold fit of a growing head gets its share, and boosting is left out, with its reason, when one stage
    timed on a sample says its fits would keep fewer than FEWEST_STAGES stages."""
    import time

    from bioclass.server.classical import train
    from classical_support import Reporter

    plan, _, _ = classical_job
    _, _, x, y = job_features
    now = time.perf_counter()
    assert train._head_end("logistic_regression", HEADS, now + 100) is None
    assert train._head_end("random_forest", HEADS, now + 100) == pytest.approx(now + 50, abs=1)
    assert train._head_end("gradient_boosting", HEADS, now + 100) == pytest.approx(now + 100, abs=1)
    table, reporter = train.FeatureTable(x.astype(np.float32)), Reporter()
    assert train._affordable("gradient_boosting", table, y, plan.config, 1, now + 3600, 5, reporter)
    assert not train._affordable("gradient_boosting", table, y, plan.config, 1, time.perf_counter(), 5, reporter)
    assert reporter.lines[-1].startswith("gradient_boosting: left out, one boosting stage would take about")
    fold_list = folds.ranking_folds(y, None, ["train"] * len(y), plan.config.seed)
    late = train.fold_probabilities("random_forest", table.rows, y, fold_list, 2, 0, 1, True,
                                    end=time.perf_counter())
    assert late.size == heads.FOREST_CHUNK and len(late.probabilities) == len(fold_list)
    assert train.fold_probabilities("logistic_regression", table.rows, y, fold_list, 2, 0, 1, True).size is None
