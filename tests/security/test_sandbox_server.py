"""The server's side of containment: a bounded number of model processes, none outliving the server."""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import grpc
import pytest
import yaml
from pydantic import ValidationError

from bioclass.client import Client
from bioclass.errors import BioclassError
from bioclass.server.settings import Settings
from models import solid_image
from server_process import ServerProcess

CPU_SECONDS = 15  # the torch import and load fit in it; the spinning forward does not


def model_processes(server_pid: int) -> list[int]:
    """The server's spawned children (model processes; not the resource tracker)."""
    found = []
    for task in Path(f"/proc/{server_pid}/task").glob("*/children"):
        for pid in map(int, task.read_text().split()):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_card_asking_for_10000_instances_is_refused_before_any_process_starts(sandboxed_server, sandboxed_client,
                                                                               test_zoo):
    folder = test_zoo / "brightness-onnx"
    card = yaml.safe_load((folder / "card.yaml").read_text())
    card.update(id="ten-thousand", serving={"instances": 10000})
    before = model_processes(sandboxed_server.process.pid)
    with pytest.raises(BioclassError) as caught:
        sandboxed_client.register_model(yaml.safe_dump(card), folder / "model.onnx")
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.message == ("serving.instances is 10000; this server allows at most 8 model processes "
                                    "per model (max_instances)")
    assert model_processes(sandboxed_server.process.pid) == before
    assert "ten-thousand" not in [m.id for m in sandboxed_client.models()]


def spin(address: str) -> threading.Thread:
    """A Predict that keeps the spinning model's process busy (its answer never comes)."""
    def call():
        with Client(address, timeout=None) as client, contextlib.suppress(BioclassError):
            client.predict(solid_image(1.0), "spins")

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_settings_keep_the_default_instances_within_the_bound():
    with pytest.raises(ValidationError, match=r"instances \(9\) exceeds max_instances \(8\)"):
        Settings(instances=9)
    assert Settings(instances=9, max_instances=9).instances == 9


def test_kill_9_of_the_server_leaves_no_model_process(test_zoo, hostile_zoo, tmp_path):
    """Six idle model processes (two per framework) and two busy in a forward pass that never ends."""
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--zoo", str(hostile_zoo), work_dir=tmp_path,
                           env={"BIOCLASS_INSTANCES": "2"}, timeout=120)
    try:
        with Client(server.address, timeout=300) as client:  # two TensorFlow processes load at once
            for model_id in ("brightness-onnx", "brightness-pytorch", "brightness-keras", "spins"):
                assert client.predict(solid_image(0.1), model_id).label == "dark"
        children = model_processes(server.process.pid)
        assert len(children) == 8
        for pid in children:  # every framework's process confined itself
            assert "\nNoNewPrivs:\t1\n" in Path(f"/proc/{pid}/status").read_text()
            if os.geteuid() == 0:  # root may always make a network namespace
                assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink(f"/proc/{server.process.pid}/ns/net")
        spinning = [spin(server.address) for _ in range(2)]
        busy = children[-2:]
        deadline = time.monotonic() + 30
        while min(map(cpu_seconds, busy)) < 1.0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert min(map(cpu_seconds, busy)) >= 1.0  # both spinners are inside forward
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
        deadline = time.monotonic() + 2.0
        while any(map(running, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in children if running(pid)] == []
        for thread in spinning:
            thread.join(10)
    finally:
        server.stop()


def test_a_model_spinning_past_its_cpu_seconds_is_killed_and_the_caller_told(hostile_zoo, tmp_path):
    server = ServerProcess("--no-builtin", "--zoo", str(hostile_zoo), work_dir=tmp_path,
                           env={"BIOCLASS_MODEL_CPU_SECONDS": str(CPU_SECONDS)}, timeout=120)
    try:
        with Client(server.address, timeout=300) as client:
            assert client.predict(solid_image(0.1), "spins").label == "dark"
            with pytest.raises(BioclassError) as caught:
                client.predict(solid_image(1.0), "spins")
            # Restarted once and tried again (runner.py), killed again: the caller learns why.
            assert caught.value.code == grpc.StatusCode.UNAVAILABLE
            assert caught.value.message == ("the model's process was killed by signal SIGXCPU; "
                                            "the next call restarts it")
            assert client.predict(solid_image(0.1), "spins").label == "dark"
    finally:
        server.stop()
