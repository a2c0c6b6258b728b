"""Prometheus metrics of the server, served on their own port (`bioclass serve --metrics-port`).

The default registry also carries prometheus_client's process collector (the server's own
memory and CPU); model processes' memory is read from /proc when scraped.
"""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from bioclass.errors import BioclassError

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

REQUESTS = Counter("bioclass_requests", "Inference requests per model and method.", ["model", "method"])
FAILURES = Counter("bioclass_request_failures", "Failed inference requests per model, method and status.",
                   ["model", "method", "code"])
REQUEST_SECONDS = Histogram("bioclass_request_seconds", "Time from a request's arrival to its answer.",
                            ["model", "method"], buckets=_LATENCY_BUCKETS)
QUEUE_SECONDS = Histogram("bioclass_queue_seconds", "Time a request waited for its batch to start.",
                          ["model"], buckets=_LATENCY_BUCKETS)
COMPUTE_SECONDS = Histogram("bioclass_compute_seconds", "Time of one forward pass (a whole batch).",
                            ["model"], buckets=_LATENCY_BUCKETS)
BATCH_SIZE = Histogram("bioclass_batch_size", "Images per forward pass.", ["model"], buckets=_BATCH_BUCKETS)
REPLICA_IMAGES = Counter("bioclass_replica_images", "Images answered per model and Ray node (serve --ray).",
                         ["model", "node"])


@contextlib.contextmanager
def failures_counted(model_id: str, method: str):
    """A request that fails before reaching the model's queue (a bad image, a model that cannot load)
    counts as a request and a failure, as one that fails in the queue does (runner.py)."""
    try:
        yield
    except BioclassError as exc:
        REQUESTS.labels(model_id, method).inc()
        FAILURES.labels(model_id, method, exc.code.name).inc()
        raise


LOADED_MODELS = Gauge("bioclass_loaded_models", "Models with at least one loaded process.")
_memory = None


class _ModelMemory:
    """Resident memory of each model process, and each model version's state, memory and last use,
    read when Prometheus scrapes."""

    def __init__(self, processes: Callable[[], Iterable[tuple[str, int, int]]], models: Callable[[], Iterable]):
        self.processes = processes
        self.models = models

    def collect(self):
        family = GaugeMetricFamily("bioclass_model_process_resident_memory_bytes",
                                   "Resident memory of each model process.", labels=["model", "instance"])
        for model_id, instance, pid in self.processes():
            rss = _resident_bytes(pid)
            if rss is not None:
                family.add_metric([model_id, str(instance)], rss)
        yield family
        yield from self._model_families(list(self.models()))

    @staticmethod
    def _model_families(runners: list):
        from bioclass.server.lifecycle import STATES

        state = GaugeMetricFamily("bioclass_model_state", "1 for the state each model version is in "
                                  "(AVAILABLE, LOADING, LOADED, UNLOADED, FAILED).", labels=["model", "version", "state"])
        memory = GaugeMetricFamily("bioclass_model_memory_bytes", "Resident memory of each model version's processes.",
                                   labels=["model", "version"])
        last_used = GaugeMetricFamily("bioclass_model_last_used_seconds", "Unix time of each model version's last "
                                      "request (0: never).", labels=["model", "version"])
        for runner in runners:
            labels = [runner.card.id, str(runner.version)]
            for name in STATES:
                state.add_metric([*labels, name], float(runner.state == name))
            memory.add_metric(labels, runner.memory_bytes())
            last_used.add_metric(labels, runner.usage.last_used)
        yield from (state, memory, last_used)


def _resident_bytes(pid: int) -> int | None:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def watch(loaded_count: Callable[[], int], processes: Callable[[], Iterable[tuple[str, int, int]]],
          models: Callable[[], Iterable] = list) -> None:
    """Report the zoo's loaded models, model processes and every model version (callbacks run at scrape time)."""
    global _memory
    LOADED_MODELS.set_function(loaded_count)
    if _memory is not None:
        REGISTRY.unregister(_memory)
    _memory = _ModelMemory(processes, models)
    REGISTRY.register(_memory)


def start(port: int, host: str) -> int:
    """Serve /metrics in a background thread; returns the bound port."""
    server, _ = start_http_server(port, addr=host)
    bound = server.server_address[1]
    log.info("metrics on http://%s:%d/metrics", host, bound)
    return bound
