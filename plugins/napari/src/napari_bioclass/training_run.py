"""A training job as the Train tab runs it: queue it, stream its updates, return the finished job.

No napari or Qt here: `run_training` is the worker thread's body, `progress_of` turns an update
into what a progress bar shows. Both use the light client's Training API (bioclass.training).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Progress stages of the Training API (training.proto, Progress.stage), in words.
STAGES = {"head": "training the head", "lr_finder": "finding the learning rate", "train": "training",
          "evaluate": "evaluating", "export": "exporting"}


@dataclass(frozen=True)
class TrainingRequest:
    """What the Train tab asks for; 0 or "" leave the server's default (training.proto, TrainConfig)."""

    dataset: str
    arch: str
    on_server: bool = False
    model_id: str = ""
    config: dict = field(default_factory=dict)  # TrainConfig fields: epochs, batch_size, max_seconds, ...
    image_size: int = 0


@dataclass(frozen=True)
class Queued:
    """The first thing the worker yields: the job's id, which Cancel needs."""

    job_id: str


def run_training(client, request: TrainingRequest) -> Iterator:
    """Upload the folder unless it is on the server, queue the job, yield Queued then every JobUpdate;
    return the finished Job (with its model id, metrics and log)."""
    if not request.on_server and not Path(request.dataset).is_dir():
        raise ValueError(f"no such folder: {request.dataset}")
    config = {name: value for name, value in request.config.items() if value}
    job_id = client.training.train(request.dataset, request.arch, on_server=request.on_server,
                                   model_id=request.model_id, image_size=request.image_size, **config)
    yield Queued(job_id)
    yield from client.training.watch(job_id)
    return client.training.job(job_id)


def progress_of(update) -> tuple[int, int, str]:
    """(value, maximum, text) for a progress bar; maximum 0 means busy without a known amount."""
    progress = update.progress
    stage = STAGES.get(progress.stage, progress.stage or "starting")
    if not progress.steps or not progress.epochs:
        return 0, 0, stage
    value = (max(progress.epoch, 1) - 1) * progress.steps + progress.step
    text = f"{stage}: epoch {progress.epoch}/{progress.epochs}, step {progress.step}/{progress.steps}"
    if progress.loss:
        text += f", loss {progress.loss:.3f}"
    return value, progress.epochs * progress.steps, text


def outcome(job) -> str:
    """One line on how a finished job ended."""
    from bioclass.training import state_name

    state = state_name(job.state)
    if state == "succeeded":
        accuracy = job.test_metrics.accuracy if job.HasField("test_metrics") else float("nan")
        return f"Trained {job.model_id} (held-out accuracy {accuracy:.2f}); it is in the model list."
    return f"Job {job.id} {state}" + (f": {job.error}" if job.error else ".")
