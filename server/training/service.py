"""The transport-neutral training service: what every Training RPC does, without gRPC types.

Requests are checked before a job is queued (dataset layout, classes, splits, architecture,
augmentation list), so mistakes come back at once as INVALID_ARGUMENT or NOT_FOUND instead of
as a failed job minutes later. Checks that need torch run in a helper process, like the jobs.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import re
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioclass.errors import AlreadyExists, InvalidArgument, Unavailable
from bioclass.server import limits
from bioclass.server.cards import MODEL_ID
from bioclass.server.settings import Settings
from bioclass.server.training import checks, datasets
from bioclass.server.training.config import DatasetSpec, TrainConfig, validated
from bioclass.server.training.scheduler import Scheduler
from bioclass.server.training.store import JobRecord, JobStore
from bioclass.server.zoo import ModelZoo

MAX_PREVIEWS = 32


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
        self.datasets = datasets.DatasetStore(settings.work_dir / "datasets", settings.max_upload_bytes,
                                              settings.max_dataset_bytes)
        self.datasets.remove_interrupted()
        self.scheduler = Scheduler(self.store, self.jobs_dir, settings.training_slots, self._serve_model)
        self._checker: ProcessPoolExecutor | None = None

    # ---- jobs --------------------------------------------------------------------------------

    async def train(self, dataset: dict, config: dict) -> JobRecord:
        spec = validated(DatasetSpec, dataset, "dataset")
        config = validated(TrainConfig, config, "training configuration")
        limits.check_training(config.model_dump(), spec.model_dump(), self.settings)
        root = self._dataset_root(spec)
        await asyncio.to_thread(datasets.check_dataset, root, spec, config)  # lists every file, runs the regex
        await self._in_checker(checks.check_request, config.arch, config.augmentation)
        self._model_id(config, "0" * 12)  # refuse a taken id before the job exists
        job = self.store.create({"dataset": spec.model_dump(), "config": config.model_dump(mode="json")})
        model_id = self._model_id(config, job.id)
        plan = {"job_id": job.id, "job_dir": str(self.jobs_dir / job.id), "dataset_root": str(root),
                "spec": spec.model_dump(), "config": config.model_dump(mode="json"), "model_id": model_id}
        self.scheduler.submit(job, plan)
        return job

    def _dataset_root(self, spec: DatasetSpec) -> Path:
        if spec.dataset_id:
            return self.datasets.root(spec.dataset_id)
        return datasets.server_root(spec.server_dir, list(self.settings.data_roots))

    def _model_id(self, config: TrainConfig, job_id: str) -> str:
        model_id = config.model_id or f"{re.sub(r'[^a-z0-9._-]', '-', config.arch.lower())}-{job_id}"
        if not MODEL_ID.match(model_id):
            raise InvalidArgument(f"model_id {model_id!r}: 1-64 characters of a-z, 0-9, '.', '_' or '-'")
        existing = self.zoo.runners.get(model_id)
        if existing is not None and (not config.overwrite or existing.folder.parent != self.zoo.store_dir):
            raise AlreadyExists(f"model {model_id} already exists" +
                                ("" if existing.folder.parent != self.zoo.store_dir else "; set overwrite"))
        return model_id

    async def _serve_model(self, job: JobRecord, result: dict) -> str:
        overwrite = bool(job.request["config"].get("overwrite"))
        runner = await self.zoo.register_folder(Path(result["export_dir"]), overwrite)
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
        count = min(count or 4, MAX_PREVIEWS)
        return await self._in_checker(checks.preview, augmentation, pixels, count, seed)

    async def _in_checker(self, function, *args):
        if self._checker is None:  # starting the process takes a while: not on the event loop
            helper = await asyncio.to_thread(_started_helper)
            if self._checker is None:
                self._checker = helper
            else:  # another request started one meanwhile
                helper.shutdown(wait=False)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._checker, function, *args)
        except BrokenProcessPool:
            self._checker = None  # the helper died (e.g. out of memory); the next call starts a new one
            raise Unavailable("the server's helper process died; try again") from None

    def close(self) -> None:
        self.scheduler.close()
        if self._checker is not None:
            self._checker.shutdown(wait=False, cancel_futures=True)
        self.store.close()



def _started_helper() -> ProcessPoolExecutor:
    helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    helper.submit(int).result()  # the pool starts its process on the first task
    return helper
