"""An AutoML run end to end through the real server: budget kept, leaderboard, fp32 and int8 served."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bioclass.automl import trial_state_name
from bioclass.errors import InvalidArgument
from bioclass.training import state_name
from automl_support import SEARCH

BUDGET_MIN = 1.5  # trials on a few images train all their epochs (no early stopping): two fit in 1.5 min
MARGIN_S = 20.0


def test_a_run_ends_within_its_budget_and_serves_its_best_model(automl_server, client, tiny_dataset):
    started = time.monotonic()
    run = client.automl.start(tiny_dataset, BUDGET_MIN, unlabelled_dir="unlabelled", model_id="tiny-automl", **SEARCH)
    updates = list(client.automl.watch(run.id))
    wall = time.monotonic() - started
    run = client.automl.run(run.id)

    assert state_name(run.state) == "succeeded", run.error
    assert wall <= BUDGET_MIN * 60 + MARGIN_S
    assert run.elapsed_seconds <= BUDGET_MIN * 60 + MARGIN_S
    assert len(updates) > 2  # the leaderboard streamed while trials ran
    board = run.leaderboard
    assert len(board) >= 2 and trial_state_name(board[0].state) == "complete"
    assert board[0].number == run.best_trial and board[0].architecture in SEARCH["architectures"]
    assert set(board[0].params) == {"learning_rate", "augmentation", "image_size", "epochs", "semi_supervised",
                                    "tiling", "scale"}
    assert (board[0].params["tiling"], board[0].params["scale"]) == ("none", "range")  # 8-bit 50x50 crops
    profile = run.profile  # read first, and said first in the log
    assert (profile.images, [c.images for c in profile.classes], profile.bit_depths) == (32, [16, 16], [8])
    assert (profile.heights.median, profile.widths.max, profile.duplicate_images) == (50, 50, 0)
    assert run.log[0] == "dataset: 32 images in 2 classes (Parasitized 16, Uninfected 16); imbalance 1.0:1 " \
                         "(largest to smallest class)"
    assert run.metric == "accuracy" and "search: ranking trials by accuracy" in run.log
    assert 0.0 <= board[0].value <= 1.0 and board[0].job_id

    assert (run.model_id, run.int8_model_id) == ("tiny-automl", "tiny-automl-int8")
    fp32, int8 = run.exports
    assert (fp32.format, int8.format) == ("onnx", "onnx-int8")
    assert int8.size_bytes < fp32.size_bytes and fp32.ms_per_image > 0 and int8.ms_per_image > 0
    assert run.quantization.startswith(("QDQ", "QOperator"))
    image = next((tiny_dataset / "Parasitized").iterdir())
    for model in (run.model_id, run.int8_model_id):
        assert client.predict(image, model=model).label in ("Parasitized", "Uninfected")

    listed = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "automl-runs", run.id, "--server",
                             automl_server.address], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "served as tiny-automl" in listed.stdout and "TRIAL" in listed.stdout


@pytest.mark.parametrize("change", [{"metric": "loss"}, {"budget_minutes": 0}, {"semi_supervised_modes": ["magic"]},
                                    {"val_fraction": 0.0}])
def test_a_bad_request_is_refused_at_once(client, tiny_dataset, change):
    values = {"budget_minutes": 1.0, **SEARCH, **change}
    budget = values.pop("budget_minutes")
    with pytest.raises(InvalidArgument):
        client.automl.start(tiny_dataset, budget, on_server=True, **values)
