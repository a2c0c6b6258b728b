"""Helpers shared by the training tests."""
from __future__ import annotations

import time


def wait_for(training, job_id: str, condition, timeout: float = 120.0):
    """Poll GetJob until condition(job) holds; the job at that moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = training.job(job_id)
        if condition(job):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not reach the expected state in {timeout} s: {training.job(job_id)}")
