"""Classical candidates in a real AutoML run (two heads and their soft vote): cross-validated on a tiny set,
ranked on the leaderboard with their spread, and the winner served and predicting like any model."""
from __future__ import annotations

import subprocess
import sys

from bioclass.automl import trial_state_name
from bioclass.training import state_name

CLASSICAL = ["classical:logistic_regression", "classical:random_forest", "classical:soft_vote"]
BUDGET_MIN = 2.0  # the classical job takes well under a minute; the margin is for two loaded cores


def test_a_classical_run_ranks_by_k_fold_and_serves_its_winner(automl_server, client, tiny_dataset):
    run = client.automl.start(tiny_dataset, BUDGET_MIN, unlabelled_dir="unlabelled", model_id="tiny-classical", architectures=CLASSICAL, threads=1)
    run = client.automl.wait(run.id)

    assert state_name(run.state) == "succeeded", run.error
    board = run.leaderboard
    assert sorted(t.architecture for t in board) == sorted(CLASSICAL)
    for trial in board:
        assert trial_state_name(trial.state) == "complete" and trial.folds == 5 and trial.job_id
        assert 0.0 <= trial.value <= 1.0 and trial.value_sd >= 0.0 and dict(trial.params) == {}
    assert board[0].value >= board[1].value >= board[2].value
    best = next(t for t in board if t.number == run.best_trial)  # the top, or the forest within its spread
    kept = [line for line in run.log if line.startswith("the random forest on handcrafted features (trial ")]
    assert best.number == board[0].number or (best.architecture == "classical:random_forest" and len(kept) == 1), run.log
    assert sum("(5 folds)" in line for line in run.log) == 3
    vote = next(t for t in board if t.architecture == "classical:soft_vote")
    assert vote.note == "the mean of logistic_regression, random_forest"

    assert run.model_id == "tiny-classical" and run.int8_model_id == ""
    (export,) = run.exports
    assert (export.format, export.file) == ("onnx", "head.onnx") and export.size_bytes > 0
    model = next(m for m in client.models() if m.id == "tiny-classical")
    assert model.framework == "classical"
    image = next((tiny_dataset / "Parasitized").iterdir())
    assert client.predict(image, model="tiny-classical").label in ("Parasitized", "Uninfected")

    shown = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "automl-runs", run.id, "--server",
                            automl_server.address], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"± {board[0].value_sd:.3f} (5-fold)" in shown.stdout
