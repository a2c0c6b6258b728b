"""Per-model inference statistics (what OIP ModelStatistics reports), mirrored into Prometheus."""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from bioclass.errors import BioclassError
from bioclass.server import metrics


@dataclass
class Duration:
    count: int = 0
    ns: int = 0

    def add(self, ns: int) -> None:
        self.count += 1
        self.ns += ns


@dataclass
class ModelStats:
    """Counters of one model; requests are what callers sent, executions the forward passes."""

    model_id: str
    inference_count: int = 0  # images answered
    execution_count: int = 0  # forward passes
    last_inference_ms: int = 0
    success: Duration = field(default_factory=Duration)
    fail: Duration = field(default_factory=Duration)
    queue: Duration = field(default_factory=Duration)
    compute: Duration = field(default_factory=Duration)
    batches: dict[int, Duration] = field(default_factory=lambda: defaultdict(Duration))

    def record_batch(self, size: int, compute_ns: int) -> None:
        self.execution_count += 1
        self.inference_count += size
        self.last_inference_ms = int(time.time() * 1000)
        self.compute.add(compute_ns)
        self.batches[size].add(compute_ns)
        metrics.BATCH_SIZE.labels(self.model_id).observe(size)
        metrics.COMPUTE_SECONDS.labels(self.model_id).observe(compute_ns / 1e9)

    def record_request(self, queue_ns: int, total_ns: int, ok: bool) -> None:
        (self.success if ok else self.fail).add(total_ns)
        if ok:
            self.queue.add(queue_ns)
            metrics.QUEUE_SECONDS.labels(self.model_id).observe(queue_ns / 1e9)

    async def request(self, method: str, call: Callable[[], Awaitable[tuple[np.ndarray, float, int | None]]],
                      ) -> tuple[np.ndarray, float]:
        """Run one request and record it here and in the metrics, whichever runner serves it. `call`
        answers (probabilities, compute milliseconds, queue nanoseconds or None: the time not computing)."""
        started = time.perf_counter()
        metrics.REQUESTS.labels(self.model_id, method).inc()
        try:
            probabilities, compute_ms, queue_ns = await call()
        except BaseException as exc:
            code = exc.code.name if isinstance(exc, BioclassError) else type(exc).__name__
            metrics.FAILURES.labels(self.model_id, method, code).inc()
            self.record_request(0, int((time.perf_counter() - started) * 1e9), ok=False)
            raise
        elapsed_ns = int((time.perf_counter() - started) * 1e9)
        metrics.REQUEST_SECONDS.labels(self.model_id, method).observe(elapsed_ns / 1e9)
        if queue_ns is None:
            queue_ns = max(0, elapsed_ns - int(compute_ms * 1e6))
        self.record_request(queue_ns, elapsed_ns, ok=True)
        return probabilities, compute_ms
