"""A run whose end step fails (its helper process killed while quantizing) still serves its best trial,
unquantized, and says why in one line."""
from __future__ import annotations

import signal

import psutil
import pytest

from bioclass.training import state_name
from server_process import ServerProcess

from automl_support import ENV


@pytest.fixture
def own_server(tmp_path):
    """A server of this test's own: during the final step its only spawned child is the helper."""
    process = ServerProcess("--no-builtin", work_dir=tmp_path / "work", env=ENV)
    yield process
    process.stop()


def _kill_helpers(server_pid: int) -> int:
    helpers = [p for p in psutil.Process(server_pid).children(recursive=True)
               if "spawn_main" in " ".join(p.cmdline())]
    for helper in helpers:
        helper.send_signal(signal.SIGKILL)
    return len(helpers)


def test_killing_the_helper_during_the_final_step_still_serves_the_best_trial(own_server, tiny_dataset):
    from bioclass.client import Client

    with Client(own_server.address) as client:
        run = client.automl.start(tiny_dataset, 1.0, unlabelled_dir="unlabelled", model_id="ends",
                                  architectures=["bioclass:small_cnn3"], image_sizes=[32], threads=1)
        killed = 0
        for update in client.automl.watch(run.id):
            if not killed and any("quantizing and serving" in line for line in update.log):
                killed = _kill_helpers(own_server.process.pid)
        run = client.automl.run(run.id)
        assert killed == 1
        assert state_name(run.state) == "succeeded", run.error
        reason = next(line for line in run.log if line.startswith("quantization failed"))
        assert reason == (f"quantization failed (the helper process died (killed, or out of memory?)); "
                          f"serving trial {run.best_trial}'s fp32 export unquantized")
        assert (run.model_id, run.int8_model_id, run.quantization) == ("ends", "", "")
        (export,) = run.exports
        assert export.format == "onnx" and export.file == "model.onnx" and export.size_bytes > 0
        image = next((tiny_dataset / "Parasitized").iterdir())
        assert client.predict(image, model="ends").label in ("Parasitized", "Uninfected")
    assert own_server.alive()
