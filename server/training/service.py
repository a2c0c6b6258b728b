"""The transport-neutral training service: what every Training RPC does, without gRPC types.

Requests are checked before a job is queued (dataset layout, classes, splits, architecture,
augmentation list), so mistakes come back at once as INVALID_ARGUMENT or NOT_FOUND instead of
as a failed job minutes later. Checks that need torch run in a helper process, like the jobs.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioclass.errors import InvalidArgument
from bioclass.server import limits
from bioclass.server.settings import Settings
from bioclass.server.training import checks, datasets, shared
from bioclass.server.training.config import DatasetSpec, TrainConfig, validated
from bioclass.server.training.scheduler import Scheduler
from bioclass.server.training.store import JobRecord, JobStore
from bioclass.server.zoo import ModelZoo


@dataclass
class JobEvent:
    job: JobRecord
    log: list[str]


class TrainingService:
    def __init__(self, settings: Settings, zoo: ModelZoo):
        self.settings, self.zoo = settings, zoo
        self.jobs_dir = settings.work_dir / "jobs"
        self.store = JobStore(self.jobs_dir / "jobs.sqlite3")
        self.store.interrupt_unfinished()
        self.datasets = shared.dataset_store(settings)
        self.datasets.remove_interrupted()
        self.scheduler = Scheduler(self.store, self.jobs_dir, settings.training_slots, self._serve_model,
                                   cancel_grace_s=settings.job_cancel_grace_s)
        self._checker = shared.HelperProcess()

    # ---- jobs --------------------------------------------------------------------------------

    async def train(self, dataset: dict, config: dict) -> JobRecord:
        spec = validated(DatasetSpec, dataset, "dataset")
        config = validated(TrainConfig, config, "training configuration")
        limits.check_training(config, spec, self.settings)
        root = shared.dataset_root(spec, self.settings, self.datasets)
        await asyncio.to_thread(datasets.check_dataset, root, spec, config)  # lists every file, runs the regex
        await self._checker.run(checks.check_request, config.arch, config.augmentation)
        self._model_id(config, "0" * 12)  # refuse a taken id before the job exists
        job = self.store.create({"dataset": spec.model_dump(), "config": config.model_dump(mode="json")})
        model_id = self._model_id(config, job.id)
        plan = {"job_id": job.id, "job_dir": str(self.jobs_dir / job.id), "dataset_root": str(root),
                "spec": spec.model_dump(), "config": config.model_dump(mode="json"), "model_id": model_id}
        self.scheduler.submit(job, plan)
        return job

    def _model_id(self, config: TrainConfig, job_id: str) -> str:
        model_id = config.model_id or f"{re.sub(r'[^a-z0-9._-]', '-', config.arch.lower())}-{job_id}"
        shared.check_model_id(model_id, self.zoo, config.overwrite)
        return model_id

    async def _serve_model(self, job: JobRecord, result: dict) -> str:
        config = TrainConfig.model_validate(job.request["config"])
        runner = await self.zoo.register_folder(Path(result["export_dir"]), config.overwrite)
        return runner.card.id

    def jobs(self) -> list[JobRecord]:
        live = self.scheduler.live
        return [live.get(job.id, job) for job in self.store.all()]

    def job(self, job_id: str) -> JobRecord:
        if not job_id:
            raise InvalidArgument("job_id is required")
        return self.scheduler.job(job_id)

    def plot(self, job_id: str, name: str) -> bytes:
        path = self.jobs_dir / job_id / name
        return path.read_bytes() if path.is_file() else b""

    def cancel(self, job_id: str) -> JobRecord:
        self.job(job_id)
        return self.scheduler.cancel(job_id)

    async def watch(self, job_id: str) -> AsyncIterator[JobEvent]:
        """The job now (with its log so far), then each change until it finishes."""
        job = self.job(job_id)
        queue = self.scheduler.subscribe(job_id)
        try:
            yield JobEvent(job, list(job.log))
            job = self.scheduler.job(job_id)  # it may have finished between the two reads
            while not job.done:
                job, lines = await queue.get()
                yield JobEvent(job, lines)
        finally:
            self.scheduler.unsubscribe(job_id, queue)

    # ---- datasets and augmentation -----------------------------------------------------------

    async def upload_dataset(self, name: str, fmt: str, sha256: str, chunks: AsyncIterator[bytes]):
        return await self.datasets.upload(name, fmt.lower(), sha256, chunks)

    def dataset_list(self):
        return self.datasets.all()

    async def preview(self, pixels: np.ndarray, augmentation: str, count: int, seed: int) -> list[np.ndarray]:
        if not augmentation.strip():
            raise InvalidArgument("augmentation is required")
        count = min(count or 4, self.settings.max_augmentation_previews)
        return await self._checker.run(checks.preview, augmentation, pixels, count, seed)

    def close(self) -> None:
        self.scheduler.close()
        self._checker.close()
        self.store.close()

