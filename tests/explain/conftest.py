"""Fixtures for explanation tests: the marker models in every framework and a server serving them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server_process import ServerProcess

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def marker_zoo(tmp_path_factory) -> Path:
    zoo = tmp_path_factory.mktemp("marker-zoo")
    subprocess.run([sys.executable, str(HERE / "marker_models.py"), str(zoo)], check=True, capture_output=True,
                   timeout=300)
    return zoo


@pytest.fixture(scope="session")
def marker_server(marker_zoo, tmp_path_factory):
    process = ServerProcess("--no-builtin", "--zoo", str(marker_zoo), work_dir=tmp_path_factory.mktemp("work"),
                            env={"BIOCLASS_INFERENCE_THREADS": "1"})
    yield process
    process.stop()


@pytest.fixture
def marker_client(marker_server):
    from bioclass.client import Client

    with Client(marker_server.address, timeout=120) as client:
        yield client
