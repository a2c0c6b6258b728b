"""A server restart in the middle of a run resumes its Optuna study with the budget left."""
from __future__ import annotations

import time

from bioclass.automl import trial_state_name
from bioclass.client import Client
from bioclass.training import state_name
from automl_support import ENV, SEARCH
from server_process import ServerProcess

BUDGET_MIN = 1.0
MARGIN_S = 20.0


def _first_trial_finished(client: Client, run_id: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.automl.run(run_id)
        if any(trial_state_name(t.state) != "running" for t in run.leaderboard):
            return run
        time.sleep(0.5)
    raise AssertionError(f"no trial finished in {timeout} s")


def test_a_restarted_server_resumes_the_study(tmp_path, tiny_dataset):
    work = tmp_path / "work"
    first = ServerProcess("--no-builtin", work_dir=work, env=ENV)
    try:
        with Client(first.address) as client:
            run = client.automl.start(tiny_dataset, BUDGET_MIN, **{**SEARCH, "semi_supervised_modes": ["none"]})
            before = _first_trial_finished(client, run.id)
    finally:
        first.stop()
    second = ServerProcess("--no-builtin", work_dir=work, env=ENV)
    try:
        with Client(second.address) as client:
            run = client.automl.wait(run.id)
            assert state_name(run.state) == "succeeded", run.error
            assert "resumed after a server restart" in run.log
            numbers = {t.number for t in run.leaderboard}
            assert {t.number for t in before.leaderboard} <= numbers and len(numbers) > len(before.leaderboard)
            assert run.elapsed_seconds <= BUDGET_MIN * 60 + MARGIN_S
            image = next((tiny_dataset / "Uninfected").iterdir())
            assert client.predict(image, model=run.model_id).label in ("Parasitized", "Uninfected")
    finally:
        second.stop()
