"""The end of an AutoML run on a tiny set: network finalists ranked by k-fold cross-validation, the chosen
configuration retrained on every labelled image before it is served; and the frozen deep-features
candidate, skipped without pretrained weights and served once a weights file is imported."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from bioclass.training import state_name
from automl_support import CLASSES, ENV
from server_process import ServerProcess

NETWORK = dict(architectures=["bioclass:small_cnn3"], image_sizes=[32], semi_supervised_modes=["none"], threads=1,
               unlabelled_dir="unlabelled")
BUDGET_MIN = 3.0  # the end phase (cross-validation, retraining; from 2 min) is 40% of it: a finalist or two here
BACKBONE = "resnet10t"
IMAGES = 32  # tiny_dataset: 16 labelled images per class


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> dict:
    """Empty weight caches and a hub that cannot be reached, for the server and the CLI."""
    caches = tmp_path_factory.mktemp("caches")
    return {"TORCH_HOME": str(caches / "torch"), "HF_HOME": str(caches / "hf"),
            "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, offline):
    process = ServerProcess("--no-builtin", "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("finalists-work"), env={**ENV, **offline})
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(server):
    from bioclass.client import Client

    with Client(server.address) as connected:
        yield connected


def _card(client, model_id: str) -> dict:
    return yaml.safe_load(client.model(model_id).card_yaml)


def test_finalists_are_ranked_by_k_fold_and_the_chosen_one_is_retrained_on_all_images(client, tiny_dataset):
    run = client.automl.start(tiny_dataset, BUDGET_MIN, model_id="tiny-finalists", **NETWORK)
    run = client.automl.wait(run.id)

    assert state_name(run.state) == "succeeded", run.error
    assert any(line.startswith("cross-validating the best network trials (") for line in run.log), run.log
    validated = [t for t in run.leaderboard if t.folds > 1]
    assert validated and all(t.folds == 5 and "5-fold cross-validation" in t.note for t in validated), run.log
    best = next(t for t in run.leaderboard if t.number == run.best_trial)
    assert best.folds == 5 and best.architecture == "bioclass:small_cnn3" and 0.0 <= best.value <= 1.0
    assert any(line.startswith(f"best: trial {best.number} (bioclass:small_cnn3, accuracy {best.value:.4f} ± ")
               and " over 5 folds)" in line for line in run.log), run.log
    retrained = [line for line in run.log if line.startswith(f"retrained trial {best.number}'s configuration")]
    assert len(retrained) == 1 and f"on all {IMAGES} labelled images for " in retrained[0], run.log

    card = _card(client, run.model_id)
    assert card["provenance"]["training_images"] == IMAGES and "training_accuracy" in card["provenance"]["metrics"]
    image = next((tiny_dataset / CLASSES[0]).iterdir())
    assert client.predict(image, model=run.model_id).label in CLASSES


def test_frozen_features_are_skipped_without_weights_and_served_with_imported_ones(client, tiny_dataset, offline,
                                                                                   tmp_path):
    request = dict(architectures=[f"frozen:{BACKBONE}"], threads=1, unlabelled_dir="unlabelled")
    run = client.automl.wait(client.automl.start(tiny_dataset, 1.0, model_id="frozen-none", **request).id)
    port = offline["HF_ENDPOINT"].rsplit(":", 1)[1]
    assert (state_name(run.state), run.error) == ("failed", "no trial finished within the budget")
    assert f"frozen:{BACKBONE}: skipped: no pretrained weights for timm:{BACKBONE}: 127.0.0.1:{port} cannot be " \
           "reached ([Errno 111] Connection refused) (random-init features are not worth the time)" in run.log

    from bioclass.server.training import networks

    torch.manual_seed(3)
    torch.save(networks.build(BACKBONE, 1000, "none")[0].state_dict(), tmp_path / "backbone.pth")
    imported = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "weights", "import", BACKBONE,
                               str(tmp_path / "backbone.pth")], capture_output=True, text=True, timeout=120,
                              env={**os.environ, **offline})
    assert imported.returncode == 0, imported.stderr

    run = client.automl.wait(client.automl.start(tiny_dataset, 1.0, model_id="frozen-served", **request).id)
    assert state_name(run.state) == "succeeded", run.error
    (trial,) = run.leaderboard
    assert (trial.architecture, trial.folds, trial.number) == (f"frozen:{BACKBONE}", 5, run.best_trial)
    assert 0.0 <= trial.value <= 1.0 and trial.value_sd >= 0.0
    assert f"trial 0: frozen:{BACKBONE} features + logistic regression: accuracy {trial.value:.4f} " \
           f"± {trial.value_sd:.4f} (5 folds)" in run.log
    card = _card(client, "frozen-served")
    assert (card["framework"], card["architecture"], card["input"]["size"]) == ("onnx", f"timm:{BACKBONE}", [224, 224])
    assert card["provenance"]["training_images"] == IMAGES
    image = next((tiny_dataset / CLASSES[1]).iterdir())
    prediction = client.predict(image, model="frozen-served")
    assert prediction.label in CLASSES
    assert float(np.sum(prediction.probabilities)) == pytest.approx(1.0, abs=1e-5)
