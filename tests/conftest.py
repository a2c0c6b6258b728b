"""Shared fixtures: tiny real models in every framework and a real server on a free port."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server_process import ServerProcess  # noqa: E402



@pytest.fixture(scope="session")
def test_zoo(tmp_path_factory) -> Path:
    """A zoo with the brightness model in each framework and format, plus one broken card."""
    zoo = tmp_path_factory.mktemp("zoo")
    subprocess.run([sys.executable, str(Path(__file__).parent / "models.py"), str(zoo)], check=True,
                   capture_output=True, timeout=300)
    broken = zoo / "broken-card"
    broken.mkdir()
    (broken / "card.yaml").write_text("id: Broken Card!\nframework: caffe\n")
    corrupt = zoo / "corrupt-weights"
    corrupt.mkdir()
    (corrupt / "card.yaml").write_text((zoo / "brightness-onnx" / "card.yaml").read_text()
                                       .replace("brightness-onnx", "corrupt-weights"))
    (corrupt / "model.onnx").write_bytes(b"this is not an onnx file")
    return zoo


@pytest.fixture(scope="session")
def server(test_zoo, tmp_path_factory):
    """One server for the session, serving the built-in zoo and the test zoo."""
    process = ServerProcess("--zoo", str(test_zoo), "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("work"))
    yield process
    process.stop()


@pytest.fixture
def client(server):
    from bioclass.client import Client

    with Client(server.address) as c:
        yield c
