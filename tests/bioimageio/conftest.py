"""Fixtures for bioimage.io tests: a server with the built-in zoo and a writable model store."""
from __future__ import annotations

import pytest

from server_process import ServerProcess


@pytest.fixture(scope="session")
def zoo_server(tmp_path_factory):
    process = ServerProcess(work_dir=tmp_path_factory.mktemp("work"), env={"BIOCLASS_INFERENCE_THREADS": "1"})
    yield process
    process.stop()


@pytest.fixture
def zoo_client(zoo_server):
    from bioclass.client import Client

    with Client(zoo_server.address, timeout=120) as client:
        yield client
