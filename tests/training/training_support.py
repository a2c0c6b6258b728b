"""Helpers shared by the training tests."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from paths import DATASETS


def wait_for(training, job_id: str, condition, timeout: float = 120.0):
    """Poll GetJob until condition(job) holds; the job at that moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = training.job(job_id)
        if condition(job):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not reach the expected state in {timeout} s: {training.job(job_id)}")


MALARIA = DATASETS / "malaria-cells-50"
CLASSES = ("Parasitized", "Uninfected")
# One thread: on a shared two-core machine OpenMP threads that wait for each other are far slower.
TINY = dict(epochs=1, image_size=32, batch_size=8, learning_rate=1e-3, threads=1)
ARCH = "mobilenetv3_small_050"
ENV = {"BIOCLASS_INFERENCE_THREADS": "1"}


def copy_images(target: Path, per_class: int, classes=CLASSES) -> Path:
    for label in classes:
        (target / label).mkdir(parents=True, exist_ok=True)
        for path in sorted((MALARIA / label).iterdir())[:per_class]:
            shutil.copy(path, target / label / path.name)
    return target
