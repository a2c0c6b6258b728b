"""Fixtures for classical candidates: real shared images, the classical job run in this process."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from classical_support import MALARIA, PER_CLASS, Reporter  # noqa: E402


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
    from bioclass.server.classical import train
    from bioclass.server.training.config import DatasetSpec, TrainConfig
    from bioclass.server.training.job import Plan

    plan = Plan(job_id="c1", job_dir=tmp_path_factory.mktemp("classical-job"), dataset_root=malaria_tiny,
                spec=DatasetSpec(server_dir="malaria"), model_id="malaria-classical",
                config=TrainConfig(arch=train.ARCH, val_fraction=0.2, test_fraction=0.0, threads=1))
    reporter = Reporter()
    return plan, train.run(plan, reporter), reporter
