"""Fixtures for AutoML tests: a tiny malaria-cells-50 copy with an unlabelled folder, and servers.

Budgets are tiny (16 images per class, 32x32 input, one CPU thread per job, two jobs at once) so
the folder runs in about three minutes on two shared cores. The unlabelled images sit in class
subfolders, so the server can report how accurate its pseudo-labels were.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from server_process import ServerProcess

sys.path.insert(0, str(Path(__file__).parent))

from automl_support import CLASSES, ENV, MALARIA, SEARCH  # noqa: E402,F401


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """16 labelled and 5 unlabelled images per class (the unlabelled ones from other patients)."""
    root = tmp_path_factory.mktemp("automl") / "malaria"
    for label in CLASSES:
        files = sorted((MALARIA / label).iterdir())
        for target, chosen in ((root / label, files[:16]), (root / "unlabelled" / label, files[600:605])):
            target.mkdir(parents=True)
            for path in chosen:
                shutil.copy(path, target / path.name)
    return root


@pytest.fixture(scope="session")
def automl_server(tmp_path_factory):
    process = ServerProcess("--no-builtin", "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("automl-work"), env=ENV)
    yield process
    process.stop()


@pytest.fixture
def client(automl_server):
    from bioclass.client import Client

    with Client(automl_server.address) as connected:
        yield connected
