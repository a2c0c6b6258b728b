"""Hostile models and a server with tight sandbox limits for the security tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server_process import ServerProcess

MEMORY_MB = 3072  # enough for torch or TensorFlow and a small model, not for a 16 GiB tensor


@pytest.fixture(scope="session")
def outside(tmp_path_factory) -> Path:
    """A folder no model may write to: the hostile writer aims at it."""
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="session")
def hostile_zoo(tmp_path_factory, outside) -> Path:
    zoo = tmp_path_factory.mktemp("hostile")
    subprocess.run([sys.executable, str(Path(__file__).parent / "hostile_models.py"), str(zoo), str(outside)],
                   check=True, capture_output=True, timeout=300)
    return zoo


@pytest.fixture(scope="session")
def sandboxed_server(test_zoo, hostile_zoo, tmp_path_factory):
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--zoo", str(hostile_zoo),
                            work_dir=tmp_path_factory.mktemp("work"),
                            env={"BIOCLASS_MODEL_MEMORY_MB": str(MEMORY_MB)}, timeout=120)
    yield process
    process.stop()


@pytest.fixture
def sandboxed_client(sandboxed_server):
    from bioclass.client import Client

    with Client(sandboxed_server.address) as client:
        yield client
