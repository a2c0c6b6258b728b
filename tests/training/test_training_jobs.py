"""Training jobs end to end through the real server: train, serve, cancel, kill."""
from __future__ import annotations

import os
import signal

import grpc
import pytest

from bioclass.errors import AlreadyExists, FailedPrecondition, NotFound
from bioclass.training import state_name
from bioclass.v1 import training_pb2 as pb
from training_support import ARCH, TINY
from training_support import wait_for

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FLIPS = "- {technique: flip_horizontal}\n- {technique: rotate, limit: 10, p: 0.3}\n"


def _running(job) -> bool:
    return job.state == pb.JOB_RUNNING and job.pid > 0


def test_job_trains_exports_and_serves_a_model(training_server, training, tiny_dataset):
    job_id = training.train(tiny_dataset, ARCH, unlabelled_dir="unlabelled", augmentation=FLIPS, quantize=True,
                            model_id="tiny-malaria", **TINY)
    updates = list(training.watch(job_id))
    states = [state_name(u.state) for u in updates]
    assert states[-1] == "succeeded", updates[-1].error
    assert "running" in states
    assert any("epoch 1/1" in line for u in updates for line in u.log)

    job = training.job(job_id)
    assert job.model_id == "tiny-malaria"
    assert list(job.dataset.labels) == ["Parasitized", "Uninfected"]
    assert [s.name for s in job.dataset.skipped] == ["Uninfected/broken.png"]
    assert job.test_metrics.images > 0 and 0.0 <= job.test_metrics.accuracy <= 1.0
    assert any(key.startswith("test/") for key in job.dataset.counts)  # unset fractions: the default 0.15
    assert sum(job.test_metrics.confusion.counts) == job.test_metrics.images
    assert job.confusion_png.startswith(PNG_MAGIC) and job.curves_png.startswith(PNG_MAGIC)
    assert [e.format for e in job.exports] == ["torchscript", "onnx", "onnx-int8"]
    assert job.exports[2].size_bytes < job.exports[1].size_bytes
    assert len(job.unlabelled) == 2 and job.history[-1].stage == "train"
    assert "from scratch" in "\n".join(job.log)

    from bioclass.client import Client

    with Client(training_server.address) as client:
        image = next((tiny_dataset / "Parasitized").iterdir())
        prediction = client.predict(image, model="tiny-malaria")
        assert prediction.label in ("Parasitized", "Uninfected")
        assert client.model("tiny-malaria").architecture == f"timm:{ARCH}"
    jobs_before = len(training.jobs())
    with pytest.raises(AlreadyExists, match="tiny-malaria"):  # refused before a job is queued
        training.train(tiny_dataset, ARCH, on_server=True, model_id="tiny-malaria", **TINY)
    assert len(training.jobs()) == jobs_before


def test_fractions_given_as_zero_leave_no_validation_or_test_split(training, tiny_dataset):
    """The fractions are proto3 `optional`: 0 sent is 0, where an unset field takes the default."""
    job_id = training.train(tiny_dataset, ARCH, on_server=True, val_fraction=0.0, test_fraction=0.0, **TINY)
    job = wait_for(training, job_id, lambda j: state_name(j.state) in ("succeeded", "failed", "cancelled"))
    assert state_name(job.state) == "succeeded", job.error
    assert {key.split("/")[0] for key in job.dataset.counts} == {"train"}
    assert job.request.config.HasField("test_fraction") and job.request.config.test_fraction == 0.0
    assert job.request.config.HasField("val_fraction") and job.request.config.val_fraction == 0.0


def test_cancelling_a_running_job(training, tiny_dataset):
    job_id = training.train(tiny_dataset, ARCH, on_server=True, **{**TINY, "epochs": 500})
    wait_for(training, job_id, _running)
    training.cancel(job_id)
    job = wait_for(training, job_id, lambda j: j.state != pb.JOB_RUNNING, timeout=60)
    assert state_name(job.state) == "cancelled"
    assert job.pid == 0 and not job.model_id
    with pytest.raises(FailedPrecondition):
        training.cancel(job_id)


def test_a_killed_job_process_fails_the_job_and_the_server_keeps_serving(training_server, training, tiny_dataset):
    job_id = training.train(tiny_dataset, ARCH, on_server=True, **{**TINY, "epochs": 500})
    job = wait_for(training, job_id, _running)
    os.kill(job.pid, signal.SIGKILL)
    job = wait_for(training, job_id, lambda j: j.state != pb.JOB_RUNNING, timeout=30)
    assert state_name(job.state) == "failed"
    assert "SIGKILL" in job.error
    assert training_server.alive()
    assert job_id in [j.id for j in training.jobs()]


def test_unknown_job_is_not_found(training):
    with pytest.raises(NotFound) as error:
        training.job("0123456789ab")
    assert error.value.code == grpc.StatusCode.NOT_FOUND
