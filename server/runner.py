"""A model being served: loads its processes on first use, batches requests, never blocks the loop.

Requests from every API enter one bounded queue per model (server/batching.py). Each model
instance (its own process, see session.py) has a worker task that takes a batch, runs the
forward pass in the instance's own thread and hands each caller its own rows.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from bioclass.errors import BioclassError, FailedPrecondition, Unavailable
from bioclass.server.batching import BatchPolicy, BatchQueue, Pending, effective_policy
from bioclass.server.cards import ModelCard
from bioclass.server.inprocess import InProcessSession
from bioclass.server.lifecycle import ModelLifecycle, Usage, resident_bytes
from bioclass.server.session import ModelSession, SessionCrashed
from bioclass.server.statistics import ModelStats

log = logging.getLogger(__name__)
# Batches up to this size reach the model process straight from the event loop; copying a larger
# one into shared memory (milliseconds) is left to the instance's thread.
INLINE_MAX_BYTES = 4 * 1024 * 1024
WARMUP_MAX_BYTES = 64 * 1024 * 1024  # a card's test_input is read by the server: bounded


class Runner(Protocol):
    """A served model as the service and the servicers use it: ModelRunner (its own processes on this
    machine) or server/ray/runner.py's RayModelRunner (replicas on a cluster)."""

    card: ModelCard
    folder: Path
    version: int
    usage: Usage
    policy: BatchPolicy
    threads: int
    max_batch_size: int
    error: str
    load_note: str
    stats: ModelStats

    @property
    def state(self) -> str:
        """AVAILABLE (never loaded), LOADING, LOADED, UNLOADED or FAILED."""

    @property
    def key(self) -> str:
        """id@version."""

    def memory_bytes(self) -> int:
        """Resident memory of its processes on this machine (0 when not loaded here)."""

    @property
    def input_shape(self) -> tuple[int, int, int]: ...

    def processes(self) -> list[tuple[int, int]]:
        """(instance, pid) of each model process on this machine."""

    async def ensure_loaded(self): ...

    async def infer(self, batch: np.ndarray, method: str = "Predict") -> tuple[np.ndarray, float]:
        """Probabilities (B, K) for a preprocessed batch, and its forward pass's milliseconds."""

    async def load(self) -> None: ...

    async def unload(self) -> None: ...

    def close(self) -> None: ...


class _Instance:
    """One model process and the thread that talks to it (its calls block)."""

    def __init__(self, model_id: str, index: int):
        self.index = index
        self.session: ModelSession | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{model_id}-{index}")
        self.worker: asyncio.Task | None = None


class ModelRunner:
    def __init__(self, card: ModelCard, folder: Path, threads: int, defaults: BatchPolicy = BatchPolicy(),
                 lifecycle: ModelLifecycle | None = None, version: int = 1):
        self.card = card
        self.folder = folder
        self.version = version
        self.lifecycle = lifecycle  # the memory budget and state listeners; None: a model checked at registration
        self.usage = Usage()
        self._pending_load: asyncio.Future | None = None  # set while loading and warming up
        self._ever_loaded = False
        self.policy = effective_policy(defaults, card)
        self.in_process = self.policy.isolation == "in_process"
        # Instances share the cores: each forward pass gets its share of the threads.
        self.threads = max(1, threads // self.policy.instances)
        self.max_batch_size = self.policy.max_batch_size
        self.error = ""
        self.load_note = ""  # what loading said, e.g. whether `serve_as: onnx` took effect
        self.device = ""  # what the network runs on, and why `device: auto` fell back to the CPU
        self.stats = ModelStats(card.id)
        self._instances = [_Instance(card.id, i) for i in range(self.policy.instances)]
        self._queue = BatchQueue(self.policy)
        self._lock = asyncio.Lock()

    @property
    def model(self) -> ModelSession | None:
        return next((i.session for i in self._instances if i.session is not None), None)

    @property
    def state(self) -> str:
        if self.error:
            return "FAILED"
        if self._pending_load is not None:
            return "LOADING"
        if self.model is not None:
            return "LOADED"
        return "UNLOADED" if self._ever_loaded else "AVAILABLE"

    @property
    def key(self) -> str:
        return f"{self.card.id}@{self.version}"

    @property
    def pinned(self) -> bool:
        return bool(self.card.serving.pinned)

    @property
    def framework(self) -> str:
        return self.card.framework

    def memory_bytes(self) -> int:
        """Resident memory of its model processes; in the server's process, the estimate made at load."""
        if self.model is None:
            return 0
        if self.in_process:
            return self.usage.measured_bytes
        return sum(resident_bytes(pid) for _, pid in self.processes())

    def _changed(self) -> None:
        if self.lifecycle is not None:
            self.lifecycle.changed(self)

    def processes(self) -> list[tuple[int, int]]:
        """(instance, pid) of each running model process."""
        return [(i.index, i.session.process.pid) for i in self._instances
                if i.session is not None and i.session.process is not None]

    # ---- loading ---------------------------------------------------------------------------

    async def ensure_loaded(self) -> ModelSession:
        with self.usage.held():  # callers waiting for the load count as requests in flight
            while not self.error and not self._ready():
                await self._load_within_budget()
        if self.error:
            raise FailedPrecondition(f"model {self.card.id} cannot be loaded: {self.error}")
        return self.model

    async def _load_within_budget(self) -> None:
        """Load the missing instances once the budget has made room for them. Callers arriving meanwhile
        wait for that load (and its warm-up) instead of starting another."""
        if self._pending_load is not None:
            await asyncio.shield(self._pending_load)
            return
        self._pending_load = asyncio.get_running_loop().create_future()
        self._changed()
        try:
            if self.lifecycle is not None:
                await self.lifecycle.reserve(self)
            async with self._lock:
                if not self.error and not self._ready():
                    await self._load_missing()
        finally:
            done, self._pending_load = self._pending_load, None
            done.set_result(None)
            if self.lifecycle is not None:
                self.lifecycle.loaded(self, self._measure())
            self._changed()

    def _measure(self) -> int:
        """Resident memory just after loading (a /proc read per process: no wait)."""
        if self.model is None:
            return 0
        if self.in_process:  # its memory is the server's: an estimate from the weights' size
            return 2 * _weights_bytes(self.folder / self.card.weights) + 16 * 1024 * 1024
        return self.memory_bytes()

    def _ready(self) -> bool:
        """Every instance has its worker (a worker restarts its own process after a crash)."""
        return all(i.worker is not None and not i.worker.done() for i in self._instances)

    async def _load_missing(self) -> None:
        loop = asyncio.get_running_loop()
        missing = [i for i in self._instances if i.session is None]
        results = await asyncio.gather(*(loop.run_in_executor(i.executor, self._load) for i in missing),
                                       return_exceptions=True)
        for instance, result in zip(missing, results):
            if isinstance(result, BaseException):
                self._record_load_error(result)
            else:
                instance.session = result
        if self.error:
            self._close_sessions()
            return
        self._ever_loaded = True
        for instance in self._instances:
            if instance.worker is None or instance.worker.done():
                instance.worker = asyncio.ensure_future(self._work(instance))

    def _record_load_error(self, exc: BaseException) -> None:
        if isinstance(exc, BioclassError):
            self.error = exc.message
        else:
            log.error("loading %s failed", self.card.id, exc_info=exc)
            self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    def _load(self) -> ModelSession:
        if not (self.folder / self.card.weights).exists():
            raise FailedPrecondition(f"weights file {self.card.weights} is missing")
        started = time.perf_counter()
        session = (InProcessSession if self.in_process else ModelSession)(self.folder, self.threads,
                                                                          self.policy.onnx_spinning,
                                                                          self.policy.load_timeout_s)
        try:
            self._check_output(session)
        except BaseException:
            session.close()
            raise
        log.info("loaded %s (%s) on %s in %.2f s%s", self.key, self.card.framework, session.device,
                 time.perf_counter() - started, f"; {session.load_note}" if session.load_note else "")
        self.load_note, self.device = session.load_note, session.device
        return session

    def _check_output(self, model: ModelSession) -> None:
        """The warm-up pass, before the model is ready: the card's test input, else a zero image; it also
        proves the card and the network agree on shapes."""
        batch = self._warmup_batch()
        shape = batch.shape
        try:
            output = model.forward(batch)
        except SessionCrashed:
            raise
        except BioclassError as exc:
            raise FailedPrecondition(f"network rejects input {list(shape)} from the card: "
                                     f"{exc.message}") from None
        expected = len(self.card.labels)
        binary_sigmoid = self.card.output.activation == "sigmoid" and expected == 2
        if output.ndim != 2 or output.shape[1] not in ((expected, 1) if binary_sigmoid else (expected,)):
            raise FailedPrecondition(f"network outputs shape {list(output.shape)} but the card lists "
                                     f"{expected} labels")

    def _warmup_batch(self) -> np.ndarray:
        name = self.card.test_input
        if not name:
            return np.zeros((1, *self.input_shape), np.float32)
        path = self.folder / name
        try:
            if not path.resolve().is_relative_to(self.folder.resolve()):
                raise FailedPrecondition(f"test_input {name} lies outside the model's folder")
            if path.stat().st_size > WARMUP_MAX_BYTES:
                raise FailedPrecondition(f"test_input {name} is larger than {WARMUP_MAX_BYTES} bytes")
            batch = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise FailedPrecondition(f"test_input {name} cannot be read: {exc}") from None
        if batch.dtype != np.float32 or batch.ndim != 4 or batch.shape[1:] != self.input_shape or not len(batch):
            raise FailedPrecondition(f"test_input {name} is {batch.dtype} {list(batch.shape)}; the warm-up needs "
                                     f"float32 [B, {', '.join(map(str, self.input_shape))}]")
        return batch

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return network_input_shape(self.card)

    # ---- inference -------------------------------------------------------------------------

    async def infer(self, batch: np.ndarray, method: str = "Predict") -> tuple[np.ndarray, float]:
        """Probabilities (B, K) for a preprocessed batch, and the milliseconds its forward pass took.

        The rows may run merged with other callers' rows; the milliseconds are the whole pass's.
        `method` names the caller's RPC in the metrics.
        """
        with self.usage.held():
            return await self.stats.request(method, lambda: self._queued(batch))

    async def _queued(self, batch: np.ndarray) -> tuple[np.ndarray, float, int]:
        await self.ensure_loaded()
        return await self._queue.submit(batch)

    async def _work(self, instance: _Instance) -> None:
        """Take batches from the queue and run them on one instance, for as long as it lives."""
        while True:
            batch = await self._queue.take(self.max_batch_size)
            if instance.session is None and not await self._restart(instance, batch):
                continue
            begun = time.perf_counter()
            try:
                probabilities, compute_ms = await self._forward(instance, [p.rows for p in batch])
            except asyncio.CancelledError:
                _fail(batch, Unavailable(f"model {self.card.id} was unloaded"))
                raise
            except SessionCrashed:
                await self._retry_after_crash(instance, batch)
                continue
            except BioclassError as exc:
                if len(batch) > 1:
                    await self._retry_alone(instance, batch, exc)
                else:
                    _fail(batch, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must fail its callers, not hang them
                log.exception("model %s: forward pass failed", self.card.id)
                _fail(batch, exc)
                continue
            self.stats.record_batch(len(probabilities), int(compute_ms * 1e6))
            _deliver(batch, probabilities, compute_ms, begun)

    async def _restart(self, instance: _Instance, batch: list[Pending]) -> bool:
        """Start a new process after a crash, within the memory budget like any load (the dead process's
        room may have gone to another model meanwhile); False (and the batch failed) when it cannot load."""
        try:
            if self.lifecycle is not None:
                await self.lifecycle.reserve(self)
            try:
                instance.session = await asyncio.get_running_loop().run_in_executor(instance.executor, self._load)
            finally:
                if self.lifecycle is not None:
                    self.lifecycle.loaded(self, self._measure())
        except asyncio.CancelledError:
            _fail(batch, Unavailable(f"model {self.card.id} was unloaded"))
            raise
        except Exception as exc:  # noqa: BLE001 - the callers learn why; the worker lives on
            _fail(batch, FailedPrecondition(f"model {self.card.id} cannot be restarted: {exc}"))
            return False
        return True

    async def _retry_after_crash(self, instance: _Instance, batch: list[Pending]) -> None:
        """A process that died (killed, out of memory) is restarted and the batch tried once more, so
        callers do not see the crash; a batch that kills it twice fails with the reason."""
        if not await self._restart(instance, batch):
            return
        begun = time.perf_counter()
        try:
            probabilities, compute_ms = await self._forward(instance, [p.rows for p in batch])
        except Exception as error:  # noqa: BLE001 - the callers learn why; the worker lives on
            _fail(batch, error)
            return
        self.stats.record_batch(len(probabilities), int(compute_ms * 1e6))
        _deliver(batch, probabilities, compute_ms, begun)

    async def _retry_alone(self, instance: _Instance, batch: list[Pending], exc: BioclassError) -> None:
        """Run a failed merged batch request by request; when each then succeeds, the network refuses
        merged batches (e.g. a fixed batch axis) and this model stops merging."""
        failures = 0
        for pending in batch:
            begun = time.perf_counter()
            try:
                probabilities, ms = await self._forward(instance, [pending.rows])
            except Exception as error:  # noqa: BLE001 - each caller gets its own failure
                _fail([pending], error)
                failures += 1
                continue
            self.stats.record_batch(len(pending.rows), int(ms * 1e6))
            _deliver([pending], probabilities, ms, begun)
        if not failures:
            log.warning("model %s: a merged batch of %d requests failed (%s) but each alone succeeded; "
                        "batching is off for this model", self.card.id, len(batch), exc.message)
            self.max_batch_size = 1

    async def _forward(self, instance: _Instance, parts: list[np.ndarray]) -> tuple[np.ndarray, float]:
        """Probabilities and milliseconds of one forward pass on one instance."""
        session = instance.session
        if session is None:
            raise Unavailable(f"model {self.card.id} was unloaded")
        started = time.perf_counter()
        alone = len(parts) == 1 and self.usage.in_flight <= 1  # no other request waits for the cores
        try:
            if sum(part.nbytes for part in parts) <= INLINE_MAX_BYTES:
                raw = await session.forward_parts_async(parts, alone)
            else:
                raw = await asyncio.get_running_loop().run_in_executor(instance.executor, session.forward_parts,
                                                                       parts, alone)
        except SessionCrashed:
            self._drop_session(instance, session)
            raise
        return activate(raw, self.card.output.activation), (time.perf_counter() - started) * 1000

    def _drop_session(self, instance: _Instance, session: ModelSession) -> None:
        log.warning("model %s: its process died; it is restarted", self.card.id)
        if instance.session is session:
            instance.session = None
        session.close()

    # ---- unloading -------------------------------------------------------------------------

    async def load(self) -> None:
        """Load now (a failed model gets another try)."""
        async with self._lock:
            self.error = ""
        await self.ensure_loaded()

    async def unload(self) -> None:
        """Stop the model's processes; queued requests fail UNAVAILABLE, the next call reloads."""
        async with self._lock:
            await self._stop()

    async def evict(self) -> bool:
        """Stop the model's processes to make room, unless a request arrived meanwhile (False then)."""
        async with self._lock:
            if self.usage.in_flight or self.model is None:
                return False
            await self._stop()
            return True

    async def _stop(self) -> None:
        try:
            for instance in self._instances:
                if instance.worker is not None:
                    instance.worker.cancel()
                    instance.worker = None
            self._queue.fail_all(Unavailable(f"model {self.card.id} was unloaded"))
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(i.executor, self._close_instance, i)
                                   for i in self._instances))
        finally:
            self._changed()

    def _close_instance(self, instance: _Instance) -> None:
        session, instance.session = instance.session, None
        if session is not None:
            session.close()

    def _close_sessions(self) -> None:
        for instance in self._instances:
            self._close_instance(instance)

    def close(self) -> None:
        for instance in self._instances:
            if instance.worker is not None:
                instance.worker.cancel()
            self._close_instance(instance)
            instance.executor.shutdown(wait=False, cancel_futures=True)


def _weights_bytes(path: Path) -> int:
    if path.is_dir():  # a SavedModel folder
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size if path.exists() else 0


def _deliver(batch: list[Pending], probabilities: np.ndarray, compute_ms: float, begun: float) -> None:
    expected = sum(len(p.rows) for p in batch)
    if len(probabilities) != expected:
        _fail(batch, BioclassError(f"the network answered {len(probabilities)} rows for {expected} images"))
        return
    offset = 0
    for pending in batch:
        count = len(pending.rows)
        if not pending.future.done():
            queue_ns = int((begun - pending.enqueued) * 1e9)
            pending.future.set_result((probabilities[offset:offset + count], compute_ms, queue_ns))
        offset += count


def _fail(batch: list[Pending], error: BaseException) -> None:
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(error)


def network_input_shape(card: ModelCard) -> tuple[int, int, int]:
    """The network's input without the batch axis, in the card's layout."""
    height, width = card.input.size
    channels = card.input.channels
    return (channels, height, width) if card.input.axes == "bchw" else (height, width, channels)


def activate(raw: np.ndarray, activation: str) -> np.ndarray:
    raw = raw.astype(np.float32, copy=False)
    if activation == "softmax":
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if activation == "sigmoid":
        probs = 1.0 / (1.0 + np.exp(-raw))
        return np.concatenate([1.0 - probs, probs], axis=1) if probs.shape[1] == 1 else probs
    return raw
