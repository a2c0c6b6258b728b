"""Fixtures for training tests: tiny real datasets (malaria-cells-50 copies) and a training server.

Budgets are tiny on purpose (a dozen 50x50 images per class, 32x32 input, one epoch, one thread),
so the folder runs in a few minutes on two shared cores.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from server_process import ServerProcess

sys.path.insert(0, str(Path(__file__).parent))

from training_support import ARCH, CLASSES, ENV, MALARIA, TINY, copy_images  # noqa: E402,F401


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """12 images per class, a corrupt image, and an unlabelled folder."""
    root = copy_images(tmp_path_factory.mktemp("tiny") / "malaria", 12)
    (root / "Uninfected" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    unlabelled = root / "unlabelled"
    unlabelled.mkdir()
    for path in sorted((MALARIA / "Parasitized").iterdir())[100:102]:
        shutil.copy(path, unlabelled / path.name)
    return root


@pytest.fixture(scope="session")
def training_server(tmp_path_factory):
    process = ServerProcess("--no-builtin", "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("training-work"), env=ENV)
    yield process
    process.stop()


@pytest.fixture
def training(training_server):
    from bioclass.client import Client

    with Client(training_server.address) as client:
        yield client.training

