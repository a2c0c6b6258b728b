"""A model being served: loads its weights on first use and runs forward passes off the event loop."""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bioclass.errors import BioclassError, FailedPrecondition
from bioclass.server.cards import ModelCard
from bioclass.server.session import ModelSession, SessionCrashed

log = logging.getLogger(__name__)


class ModelRunner:
    def __init__(self, card: ModelCard, folder: Path, threads: int):
        self.card = card
        self.folder = folder
        self.threads = threads
        self.model: ModelSession | None = None
        self.error = ""
        self._lock = asyncio.Lock()
        # One thread per model: passes of one model run in order, other models run beside it.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{card.id}")

    @property
    def state(self) -> str:
        return "FAILED" if self.error else ("LOADED" if self.model is not None else "AVAILABLE")

    async def ensure_loaded(self) -> ModelSession:
        async with self._lock:
            if self.model is None and not self.error:
                loop = asyncio.get_running_loop()
                try:
                    self.model = await loop.run_in_executor(self._executor, self._load)
                except BioclassError as exc:
                    self.error = exc.message
                except Exception as exc:  # noqa: BLE001 - any framework error means "cannot load"
                    log.exception("loading %s failed", self.card.id)
                    self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if self.error:
            raise FailedPrecondition(f"model {self.card.id} cannot be loaded: {self.error}")
        return self.model

    def _load(self) -> ModelSession:
        if not (self.folder / self.card.weights).exists():
            raise FailedPrecondition(f"weights file {self.card.weights} is missing")
        started = time.perf_counter()
        session = ModelSession(self.folder, self.threads)
        try:
            self._check_output(session)
        except BaseException:
            session.close()
            raise
        log.info("loaded %s (%s) in %.2f s", self.card.id, self.card.framework, time.perf_counter() - started)
        return session

    def _check_output(self, model: ModelSession) -> None:
        """A warm-up pass on zeros: proves the card and the network agree on shapes."""
        height, width = self.card.input.size
        shape = (1, self.card.input.channels, height, width) if self.card.input.axes == "bchw" \
            else (1, height, width, self.card.input.channels)
        try:
            output = model.forward(np.zeros(shape, np.float32))
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

    async def infer(self, batch: np.ndarray) -> tuple[np.ndarray, float]:
        """Probabilities (B, K) for a preprocessed batch, and the milliseconds the pass took."""
        model = await self.ensure_loaded()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._forward, model, batch)

    def _forward(self, model: ModelSession, batch: np.ndarray) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        try:
            raw = model.forward(batch)
        except SessionCrashed:
            self._drop_session(model)
            raise
        return activate(raw, self.card.output.activation), (time.perf_counter() - started) * 1000

    def _drop_session(self, session: ModelSession) -> None:
        log.warning("model %s: its process died; it restarts on the next call", self.card.id)
        if self.model is session:
            self.model = None
        session.close()

    def close(self) -> None:
        if self.model is not None:
            self.model.close()
            self.model = None
        self._executor.shutdown(wait=False, cancel_futures=True)


def activate(raw: np.ndarray, activation: str) -> np.ndarray:
    raw = raw.astype(np.float32, copy=False)
    if activation == "softmax":
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if activation == "sigmoid":
        probs = 1.0 / (1.0 + np.exp(-raw))
        return np.concatenate([1.0 - probs, probs], axis=1) if probs.shape[1] == 1 else probs
    return raw
