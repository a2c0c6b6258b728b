"""Job history survives a server restart; jobs cut short by the stop are marked interrupted."""
from __future__ import annotations

from bioclass.client import Client
from bioclass.training import state_name
from bioclass.v1 import training_pb2 as pb
from training_support import ARCH, ENV, TINY
from server_process import ServerProcess
from training_support import wait_for


def test_history_survives_a_restart(tmp_path, tiny_dataset):
    work = tmp_path / "work"
    first = ServerProcess("--no-builtin", "--data-root", str(tiny_dataset.parent), work_dir=work, env=ENV)
    try:
        with Client(first.address) as client:
            running = client.training.train(tiny_dataset, ARCH, on_server=True, **{**TINY, "epochs": 500})
            queued = client.training.train(tiny_dataset, ARCH, on_server=True, **TINY)
            assert state_name(client.training.job(queued).state) == "queued"  # one job at a time by default
            client.training.cancel(queued)
            wait_for(client.training, running, lambda j: j.state == pb.JOB_RUNNING)
    finally:
        first.stop()
    second = ServerProcess("--no-builtin", work_dir=work, env=ENV)
    try:
        with Client(second.address) as client:
            jobs = {job.id: job for job in client.training.jobs()}
            assert state_name(jobs[running].state) == "interrupted"
            assert state_name(jobs[queued].state) == "cancelled"
            assert jobs[running].request.config.arch == ARCH and jobs[running].request.config.epochs == 500
    finally:
        second.stop()
