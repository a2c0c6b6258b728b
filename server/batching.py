"""Dynamic batching: concurrent requests for one model merge into one forward pass.

Requests wait in a bounded queue per model. A free model instance takes the oldest request
and every queued request behind it of the same input shape, up to `max_batch_size` images.
With `max_queue_delay_us` 0 it starts at once with what is queued: while the model is busy,
new requests pile up and form the next batch, so batches grow with the load and a lone caller
never waits. A positive delay holds a batch that is not yet full for up to that long.
"""
from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from bioclass.errors import InvalidArgument, ResourceExhausted
from bioclass.server.cards import ModelCard, spinning_mode


@dataclass(frozen=True)
class BatchPolicy:
    """How one model is served: the server's settings, overridden per model by its card (effective_policy)."""

    max_batch_size: int = 32
    max_queue_delay_us: int = 0
    queue_size: int = 256
    instances: int = 1
    isolation: str = "process"  # or "in_process": ONNX models only (inprocess.py)
    onnx_spinning: str = "alone"  # ONNX Runtime's idle threads: off, pass, always or alone (cards.spinning_mode)
    max_instances: int = 8  # the server's bound on a card's serving.instances (Settings.max_instances)
    load_timeout_s: float = 600.0  # a model process's time to load (Settings.model_load_timeout_s)

    @classmethod
    def from_settings(cls, settings) -> "BatchPolicy":
        """The server-wide defaults (server/settings.py)."""
        return cls(settings.max_batch_size, settings.max_queue_delay_us, settings.queue_size, settings.instances,
                   "in_process" if settings.onnx_in_process else "process", settings.onnx_spinning,
                   settings.max_instances, settings.model_load_timeout_s)


def check_instances(instances: int, bound: int) -> None:
    """Each instance is a process holding a copy of the model: a card may not ask for more than the server allows."""
    if instances > bound:
        raise InvalidArgument(f"serving.instances is {instances}; this server allows at most {bound} model "
                              "processes per model (max_instances)")


def effective_policy(defaults: BatchPolicy, card: ModelCard) -> BatchPolicy:
    """How this card's model is served: what its `serving:` section sets, else the defaults. In-process
    isolation holds for plain ONNX models only; a card asking it for any other is refused."""
    serving = card.serving
    plain_onnx = card.framework == "onnx" and serving.serve_as is None
    if serving.isolation == "in_process" and not plain_onnx:
        raise InvalidArgument(f"serving.isolation in_process is for ONNX models only ({card.framework} models "
                              "keep torch and TensorFlow out of the server process)")
    overrides = {f.name: getattr(serving, f.name) for f in dataclasses.fields(BatchPolicy)
                 if getattr(serving, f.name, None) is not None}
    if "onnx_spinning" in overrides:
        overrides["onnx_spinning"] = spinning_mode(overrides["onnx_spinning"])
    policy = dataclasses.replace(defaults, **overrides)
    check_instances(policy.instances, policy.max_instances)
    return policy if plain_onnx else dataclasses.replace(policy, isolation="process")


@dataclass
class Pending:
    rows: np.ndarray
    future: asyncio.Future
    enqueued: float  # perf_counter seconds


class BatchQueue:
    """Requests waiting for a model, bounded by the number of images they hold."""

    def __init__(self, policy: BatchPolicy):
        self.policy = policy
        self._pending: deque[Pending] = deque()
        self._images = 0
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return self._images

    def submit(self, rows: np.ndarray) -> asyncio.Future:
        if len(rows) > self.policy.queue_size:  # waiting would not help: say so instead of "retry later"
            raise InvalidArgument(f"a batch of {len(rows)} images can never fit the model's queue of "
                                  f"{self.policy.queue_size} images; send at most {self.policy.queue_size} per request")
        if self._images + len(rows) > self.policy.queue_size:
            raise ResourceExhausted(f"the model's queue is full ({self._images} images waiting, "
                                    f"limit {self.policy.queue_size}); retry later")
        item = Pending(rows, asyncio.get_running_loop().create_future(), time.perf_counter())
        self._pending.append(item)
        self._images += len(rows)
        self._arrived.set()
        return item.future

    async def take(self, max_batch_size: int) -> list[Pending]:
        """The next batch: at least one request, at most max_batch_size images unless one is larger."""
        while True:
            while not self._drop_cancelled():
                self._arrived.clear()
                await self._arrived.wait()
            if self.policy.max_queue_delay_us:
                await self._wait_for_more(max_batch_size)
            if self._drop_cancelled():
                return self._pop_batch(max_batch_size)

    async def _wait_for_more(self, max_batch_size: int) -> None:
        deadline = self._pending[0].enqueued + self.policy.max_queue_delay_us / 1e6
        while self._images < max_batch_size and (left := deadline - time.perf_counter()) > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return

    def _drop_cancelled(self) -> bool:
        """Forget requests whose callers gave up; True when one is still waiting."""
        while self._pending and self._pending[0].future.done():
            self._images -= len(self._pending.popleft().rows)
        return bool(self._pending)

    def _pop_batch(self, max_batch_size: int) -> list[Pending]:
        batch = [self._pending.popleft()]
        size, shape = len(batch[0].rows), batch[0].rows.shape[1:]
        while self._pending and (nxt := self._pending[0]).rows.shape[1:] == shape \
                and size + len(nxt.rows) <= max_batch_size:
            self._pending.popleft()
            if not nxt.future.done():
                batch.append(nxt)
                size += len(nxt.rows)
            else:
                self._images -= len(nxt.rows)
        self._images -= size
        return batch

    def fail_all(self, error: BaseException) -> None:
        while self._pending:
            item = self._pending.popleft()
            if not item.future.done():
                item.future.set_exception(error)
        self._images = 0
