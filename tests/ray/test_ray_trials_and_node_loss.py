"""AutoML on the two-node cluster: the run's trials are Ray Tune trials, at once on both nodes;
losing a node mid-run keeps predictions answered and Tune starts the lost trial again on the other
node (or the leaderboard reports it lost).

This file runs after test_ray_serving.py (file order) because it kills node_b of the session's cluster."""
from __future__ import annotations

import re
import threading
import time

from bioclass.client import Client
from bioclass.training import state_name
from models import solid_image
from ray_support import tune_trials, wait_for

MODEL = "brightness-replicated"
BUDGET_MIN = 1.5
SEARCH = dict(architectures=["mobilenetv3_small_050", "resnet10t"], image_sizes=[32], threads=1,
              semi_supervised_modes=["none"])


class Hammer:
    """Predicts in a loop from a thread, counting answers and keeping every failure."""

    def __init__(self, address: str):
        self.address, self.answers, self.failures = address, 0, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        with Client(self.address) as client:
            while not self.stopping.is_set():
                try:
                    assert client.predict(solid_image(0.9), MODEL).label == "bright"
                    self.answers += 1
                except Exception as exc:  # noqa: BLE001 - every failure is asserted on below
                    self.failures.append(f"{time.strftime('%H:%M:%S')}: {exc!r}")
                time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(30)


def test_trials_run_on_both_nodes_and_losing_one_loses_no_request(cluster, ray_server, client, tiny_dataset):
    node_a, node_b = cluster.ids["node_a"], cluster.ids["node_b"]
    assert client.predict(solid_image(0.9), MODEL).label == "bright"  # deployed before the trials take the cores
    run = client.automl.start(tiny_dataset, BUDGET_MIN, model_id="ray-automl", **SEARCH)

    def trial_nodes() -> dict[str, tuple[str, str]]:
        """job id -> (node, Tune trial id) of each trial's first attempt, from the server's log."""
        found = re.findall(r"job (\w+): attempt 1 runs on Ray node (\w+) \(Tune trial (\w+)", ray_server.log)
        return {job: (node, tune_trial) for job, node, tune_trial in found}

    started = wait_for(lambda: len({node for node, _ in trial_nodes().values()}) == 2 and trial_nodes(), 120,
                       "two trials running on two nodes")
    assert {node for node, _ in started.values()} == {node_a, node_b}
    assert len(tune_trials(ray_server.work_dir, run.id)) >= 2  # Tune's experiment, in the run's folder
    lost_job = next(job for job, (node, _) in started.items() if node == node_b)

    hammer = Hammer(ray_server.address)
    time.sleep(2)
    answered_before_kill = hammer.answers
    cluster.kill_node("node_b")
    updates = list(client.automl.watch(run.id))
    hammer.stop()

    run = client.automl.run(run.id)
    assert state_name(run.state) == "succeeded", run.error
    assert len(updates) > 2  # the leaderboard streamed as before
    assert hammer.failures == [] and answered_before_kill > 0 and hammer.answers > answered_before_kill + 10
    # Tune started the trial on the lost node again on the surviving one, or it is reported as lost.
    assert f"job {lost_job}: the Ray node running attempt 1 was lost; Tune starts the trial again" in ray_server.log
    retried = re.search(rf"job {lost_job}: attempt 2 runs on Ray node {node_a} \(Tune trial {started[lost_job][1]}",
                        ray_server.log)
    reported = any("lost" in trial.note for trial in run.leaderboard)
    assert retried or reported, ray_server.log[-3000:]
    assert any(re.search(rf"ran on Ray node {node_a} as Tune trial \w+", line) for line in run.log), run.log
    assert "Traceback" not in ray_server.log  # Tune in the server's thread: one line per event, no tracebacks
    assert client.predict(solid_image(0.5), run.model_id).label in ("Parasitized", "Uninfected")
