"""Fixtures for the napari plugin: a real bioclass server with the ONNX brightness model.

Built from the repository's own test helpers (tests/models.py, tests/server_process.py) rather
than its `server` fixture, which builds the model in every framework; fixture names start with
`napari_` so that `pytest tests plugins/napari/tests` sees no two fixtures of one name.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1]
REPO = PLUGIN.parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(PLUGIN / "src"))  # lets the tests run before `pip install -e plugins/napari`
# napari draws with OpenGL: Qt's offscreen platform gets it from the X display pytest-xvfb starts
# (or, when that gives none, from the Xvfb napari_display starts).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from server_process import ServerProcess  # noqa: E402

from .opengl_display import display_with_opengl  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def napari_display():
    """A display checked to give OpenGL, before any test here makes the QApplication."""
    return display_with_opengl()


@pytest.fixture(scope="session")
def napari_zoo(tmp_path_factory) -> Path:
    """A zoo with brightness-onnx only (white → bright, black → dark)."""
    zoo = tmp_path_factory.mktemp("napari-zoo")
    # In a subprocess, as tests/conftest.py does, so this process never imports torch.
    build = "import sys; from pathlib import Path; from models import build_onnx; build_onnx(Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", build, str(zoo)], cwd=REPO / "tests", check=True, capture_output=True,
                   timeout=300)
    return zoo


@pytest.fixture(scope="session")
def napari_server(napari_zoo, tmp_path_factory):
    """A real `bioclass serve` with brightness-onnx and the built-in zoo."""
    process = ServerProcess("--zoo", str(napari_zoo), "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("napari-work"))  # server folders: the tests' own
    yield process
    process.stop()


@pytest.fixture
def napari_client(napari_server):
    from bioclass.client import Client

    with Client(napari_server.address) as client:
        yield client


@pytest.fixture
def napari_viewer(request, napari_display):
    """A viewer from napari's `make_napari_viewer`, which is only asked for once OpenGL is possible."""
    if napari_display is None:
        pytest.skip("a napari viewer needs OpenGL: install Xvfb (apt xvfb) and pytest-xvfb")
    return request.getfixturevalue("make_napari_viewer")()


@pytest.fixture
def dead_address() -> str:
    """A loopback port that nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


MALARIA = REPO.parent / "shared" / "datasets" / "malaria-cells-50"
MALARIA_CLASSES = ("Parasitized", "Uninfected")


def unsorted_malaria(folder: Path, per_class: int, start: int = 0) -> dict[str, str]:
    """Copy real malaria cells of both classes into one flat folder; returns image name -> true class."""
    import shutil

    if not MALARIA.is_dir():
        pytest.skip(f"the malaria-cells-50 dataset is not at {MALARIA}")
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for label in MALARIA_CLASSES:
        for path in sorted((MALARIA / label).iterdir())[start:start + per_class]:
            shutil.copy(path, folder / path.name)
            truth[path.name] = label
    return truth


@pytest.fixture
def unsorted(tmp_path) -> Path:
    """Eight unsorted malaria cells, four of each class."""
    unsorted_malaria(tmp_path / "unsorted", 4)
    return tmp_path / "unsorted"
