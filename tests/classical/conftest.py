"""Fixtures for classical candidates: real shared images, the classical job run in this process."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from classical_support import MALARIA, PER_CLASS, run_job  # noqa: E402


@pytest.fixture(scope="session")
def malaria_tiny(tmp_path_factory) -> Path:
    """PER_CLASS malaria images per class."""
    root = tmp_path_factory.mktemp("classical") / "malaria"
    for label in ("Parasitized", "Uninfected"):
        (root / label).mkdir(parents=True)
        for path in sorted((MALARIA / label).iterdir())[:PER_CLASS]:
            shutil.copy(path, root / label / path.name)
    return root


@pytest.fixture(scope="session")
def classical_job(malaria_tiny, tmp_path_factory):
    """The classical AutoML job run once on malaria_tiny: (plan, result, reporter)."""
    return run_job(malaria_tiny, tmp_path_factory.mktemp("classical-job"), "malaria", "malaria-classical")


@pytest.fixture(scope="session")
def classical_server(classical_job, tmp_path_factory):
    """A server whose zoo holds the job's random-forest and soft-vote candidates as exported."""
    from server_process import ServerProcess

    _, result, _ = classical_job
    zoo = tmp_path_factory.mktemp("classical-zoo")
    exported = {c["head"]: c["export_dir"] for c in result["candidates"]}
    shutil.copytree(exported["random_forest"], zoo / "malaria-classical")
    shutil.copytree(exported["soft_vote"], zoo / "malaria-vote")
    card = zoo / "malaria-vote" / "card.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("id: malaria-classical", "id: malaria-vote"),
                    encoding="utf-8")
    process = ServerProcess("--no-builtin", "--zoo", str(zoo), work_dir=tmp_path_factory.mktemp("classical-work"),
                            env={"BIOCLASS_INFERENCE_THREADS": "1"})
    yield process
    process.stop()
