"""Every semi-supervised mode as a Train option: it trains, pseudo-labels and reports the counts."""
from __future__ import annotations

import pytest

from bioclass.training import state_name
from automl_support import CLASSES

MODES = ("data", "model", "model_data", "data_iterative", "model_iterative", "model_data_iterative", "topological")
TINY = dict(epochs=1, image_size=32, batch_size=8, learning_rate=1e-3, threads=1, serve_format="onnx",
            pseudo_threshold=0.5)  # 0.5: with two classes every unlabelled image is pseudo-labelled
UNLABELLED = 10


@pytest.fixture(scope="module")
def jobs(automl_server, tiny_dataset):
    """All modes queued at once (the server runs two at a time), then waited for."""
    from bioclass.client import Client

    with Client(automl_server.address) as client:
        training = client.training
        dataset_id = training.upload_dataset(tiny_dataset).id
        queued = {mode: training.train(tiny_dataset, "mobilenetv3_small_050", dataset_id=dataset_id,
                                       unlabelled_dir="unlabelled", semi_supervised=mode,
                                       ensemble_archs=["resnet10t"], **TINY) for mode in MODES}
        return {mode: training.wait(job_id) for mode, job_id in queued.items()}


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_reports_its_pseudo_labels(jobs, mode):
    job = jobs[mode]
    assert state_name(job.state) == "succeeded", job.error
    assert job.request.config.semi_supervised == mode
    rounds = job.pseudo_labels
    assert [r.round for r in rounds] == ([1, 2] if mode.endswith("_iterative") else [1])
    for r in rounds:
        assert r.unlabelled == UNLABELLED and r.pseudo_labelled == UNLABELLED
        assert set(r.counts) == set(CLASSES) and sum(r.counts.values()) == UNLABELLED
        assert r.with_known_label == UNLABELLED and 0.0 <= r.accuracy <= 1.0
        assert r.teachers == (2 if "model" in mode else 1)
        assert r.transforms == (6 if "data" in mode else 1)
    trainings = (2 if "model" in mode else 1) + len(rounds)
    assert sum(h.stage == "train" for h in job.history) == trainings
