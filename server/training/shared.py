"""What the Training and AutoML services share: where a dataset is, the model-id rule, the helper
process that runs torch-dependent checks, and the queues of those watching a job or a run.

Server side: nothing here imports torch (the helper process does, when a check runs there).
"""
from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bioclass.errors import AlreadyExists, InvalidArgument, Unavailable
from bioclass.server.cards import MODEL_ID
from bioclass.server.settings import Settings
from bioclass.server.training import datasets
from bioclass.server.training.config import DatasetSpec
from bioclass.server.zoo import ModelZoo

MODEL_ID_LENGTH = 64  # cards.MODEL_ID's limit


def dataset_store(settings: Settings) -> datasets.DatasetStore:
    return datasets.DatasetStore(settings.work_dir / "datasets", settings.max_upload_bytes,
                                 settings.max_dataset_bytes)


def dataset_root(spec: DatasetSpec, settings: Settings, store: datasets.DatasetStore | None = None) -> Path:
    """The folder of an uploaded dataset (by id) or of a server folder inside the data roots."""
    if spec.dataset_id:
        return (store or dataset_store(settings)).root(spec.dataset_id)
    return datasets.server_root(spec.server_dir, list(settings.data_roots))


def check_model_id(model_id: str, zoo: ModelZoo, overwrite: bool, suffixes: tuple[str, ...] = ("",)) -> None:
    """A valid id for each served name (model_id + suffix) that is free, or (with overwrite) a model
    this server registered itself; suffixes leave room for the models a run adds (AutoML's "-int8")."""
    longest = MODEL_ID_LENGTH - max(len(s) for s in suffixes)
    if not MODEL_ID.match(model_id) or len(model_id) > longest:
        raise InvalidArgument(f"model_id {model_id!r}: 1-{longest} characters of a-z, 0-9, '.', '_' or '-'")
    for served in (model_id + suffix for suffix in suffixes):
        existing = zoo.runners.get(served)
        if existing is not None and (not overwrite or existing.folder.parent != zoo.store_dir):
            raise AlreadyExists(f"model {served} already exists" +
                                ("" if existing.folder.parent != zoo.store_dir else "; set overwrite"))


class HelperDied(Unavailable):
    """The helper process died under a call (killed, or out of memory); the next call starts another."""


class HelperProcess:
    """One spawned helper process for work that needs torch; a new one starts after it died."""

    def __init__(self):
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, function, *args):
        if self._pool is None:  # starting the process takes a while: not on the event loop
            pool = await asyncio.to_thread(_started_pool)
            if self._pool is None:
                self._pool = pool
            else:  # another request started one meanwhile
                pool.shutdown(wait=False)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
        except BrokenProcessPool:
            self._pool = None  # the helper died (e.g. out of memory); the next call starts a new one
            raise HelperDied("the server's helper process died; try again") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _started_pool() -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(int).result()  # the pool starts its process on the first task
    return pool


class Watchers:
    """The queues of the callers watching each job or run; every change is put on each."""

    def __init__(self):
        self._queues: dict[str, set[asyncio.Queue]] = {}

    def subscribe(self, key: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.setdefault(key, set()).add(queue)
        return queue

    def unsubscribe(self, key: str, queue: asyncio.Queue) -> None:
        self._queues.get(key, set()).discard(queue)

    def publish(self, key: str, item) -> None:
        for queue in self._queues.get(key, ()):
            queue.put_nowait(item)
