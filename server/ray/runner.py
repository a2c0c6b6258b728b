"""The server's side of a model served on Ray: the ModelRunner interface, routing to replicas.

The zoo makes one of these per model when the server runs with --ray; the servicers (our API and
the Open Inference Protocol) cannot tell it from a local ModelRunner. The model is deployed as a
Ray Serve application on its first use; Serve's router picks a replica for each request, and the
replica batches what reaches it. A replica that died with its node is routed around: the request
is sent again until another replica answers or Settings.ray_retry_s has passed.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import ray
from ray import serve

from bioclass.errors import BioclassError, FailedPrecondition, InvalidArgument, Unavailable
from bioclass.server import metrics
from bioclass.server.batching import BatchPolicy, effective_policy
from bioclass.server.cards import ModelCard
from bioclass.server.lifecycle import Usage
from bioclass.server.ray import store
from bioclass.server.ray.deployment import ModelReplica
from bioclass.server.ray.options import deployment_options, replica_threads
from bioclass.server.runner import network_input_shape
from bioclass.server.statistics import ModelStats

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Patience:
    """How long the front waits on the cluster (Settings.ray_retry_s, Settings.ray_deploy_timeout_s)."""
    retry_s: float = 30.0  # a request whose replica died is sent again until another answers, this long
    deploy_timeout_s: float = 120.0  # for a model's replicas to start

_generation = iter(range(1, 1 << 30))  # each deployment its own app name: a replaced model never races its successor


class RayModelRunner:  # implements server/runner.py's Runner
    def __init__(self, card: ModelCard, folder: Path, defaults: BatchPolicy, replicas: int, replica_cpus: float,
                 model_store: str | None = None, autoscaling: dict | None = None, patience: Patience = Patience()):
        self.card = card
        self.patience = patience
        self.folder = folder
        self.version = 1  # the zoo sets it from the folder's name
        self.usage = Usage()
        self.model_store = model_store  # where replicas fetch the folder from (store.py); None: the path itself
        self.policy = effective_policy(defaults, card)
        self.options = deployment_options(card.serving, replicas, replica_cpus, autoscaling)
        if self.policy.instances != 1:
            raise InvalidArgument("serving.instances is for one machine; on Ray use serving.replicas")
        self.threads = replica_threads(self.options)
        self.max_batch_size = self.policy.max_batch_size
        self.error = ""
        self.load_note = ""
        self.stats = ModelStats(card.id)
        self.app_name = ""
        self.location = ""  # what the replicas load: the folder, or its published copy
        self._handle = None
        self._lock = asyncio.Lock()

    @property
    def state(self) -> str:
        return "FAILED" if self.error else ("LOADED" if self._handle is not None else "AVAILABLE")

    @property
    def model(self):
        return self._handle

    @property
    def key(self) -> str:
        return f"{self.card.id}@{self.version}"

    def memory_bytes(self) -> int:
        return 0  # the replicas' memory is the cluster's, outside this machine's budget

    def processes(self) -> list[tuple[int, int]]:
        return []  # the model processes live in the replicas, on the cluster's nodes

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return network_input_shape(self.card)

    # ---- deploying ---------------------------------------------------------------------------

    async def ensure_loaded(self):
        if self.error or self._handle is None:
            async with self._lock:
                if not self.error and self._handle is None:
                    await self._deploy()
        if self.error:
            raise FailedPrecondition(f"model {self.card.id} cannot be loaded: {self.error}")
        return self._handle

    async def _deploy(self) -> None:
        started = time.perf_counter()
        name = f"bioclass-{self.card.id}-{next(_generation)}"
        try:
            handle = await asyncio.to_thread(self._start_application, name)
            # The first replica to load answers; the others may still be loading, or waiting for room.
            node, self.load_note, error = await asyncio.wait_for(handle.ready.remote(),
                                                                 self.patience.deploy_timeout_s)
        except TimeoutError:
            error = (f"no replica was ready within {self.patience.deploy_timeout_s:.0f} s; does the cluster have "
                     f"room for {self.options}? (ray status shows pending demands)")
        except Exception as exc:  # noqa: BLE001 - a deployment that fails is reported like a model that cannot load
            log.exception("deploying %s on Ray failed", self.card.id)
            error = f"deploying on Ray failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if error:
            self.error = error
            await asyncio.to_thread(_delete, name)
            return
        self.app_name, self._handle = name, handle
        log.info("deployed %s on Ray as %s (%s) in %.1f s from %s; first replica on node %s", self.card.id, name,
                 self.options, time.perf_counter() - started, self.location, node)

    def _start_application(self, name: str):
        """Ask Serve for the replicas without waiting for all of them (some may wait for room)."""
        location = str(self.folder)
        if self.model_store:
            location = store.publish(self.folder, self.card.id, self.model_store)
        self.location = location
        policy = dataclasses.asdict(self.policy)  # effective already: the replica applying the card again changes nothing
        # The replica's own queue bounds and batches its requests; Serve only spreads them.
        app = ModelReplica.options(name=self.card.id, max_ongoing_requests=self.policy.queue_size,
                                   **self.options).bind(location, bool(self.model_store), self.threads, policy)
        target = serve.RunTarget(app, name=name, route_prefix=None)
        return serve.run_many([target], wait_for_applications_running=False)[0]

    # ---- inference ---------------------------------------------------------------------------

    async def infer(self, batch: np.ndarray, method: str = "Predict") -> tuple[np.ndarray, float]:
        """Probabilities (B, K) and the forward pass's milliseconds, from whichever replica Serve picked."""
        self.usage.begin()
        try:
            return await self.stats.request(method, lambda: self._answer(batch, method))
        finally:
            self.usage.end()

    async def _answer(self, batch: np.ndarray, method: str) -> tuple[np.ndarray, float, None]:
        handle = await self.ensure_loaded()
        probabilities, compute_ms, node = await self._call(handle, batch, method)
        metrics.REPLICA_IMAGES.labels(self.card.id, node).inc(len(batch))
        # Each request is one execution here: the replicas' own batching is not visible to the front.
        self.stats.record_batch(len(batch), int(compute_ms * 1e6))
        return probabilities, compute_ms, None  # its queue time: what the call did not spend computing

    async def _call(self, handle, batch: np.ndarray, method: str) -> tuple[np.ndarray, float, str]:
        deadline = time.monotonic() + self.patience.retry_s
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = await handle.infer.remote(batch, method)
                break
            except ray.exceptions.RayActorError as exc:
                # The replica died (its node went away); Serve starts another, the router skips the dead one.
                if time.monotonic() >= deadline:
                    raise Unavailable(f"model {self.card.id}: no replica answered within "
                                      f"{self.patience.retry_s:.0f} s ({type(exc).__name__})") from None
                log.warning("model %s: a replica was lost (%s); request sent again (attempt %d)",
                            self.card.id, type(exc).__name__, attempt + 1)
                await asyncio.sleep(min(1.0, 0.1 * attempt))
        if reply[0] == "error":
            _, code, message = reply
            raise BioclassError(message, _status(code))
        _, probabilities, compute_ms, node = reply
        return probabilities, compute_ms, node

    # ---- unloading ---------------------------------------------------------------------------

    async def load(self) -> None:
        """Deploy now (a failed model gets another try) and wait until every replica is up."""
        async with self._lock:
            self.error = ""
        await self.ensure_loaded()
        deadline = time.monotonic() + self.patience.deploy_timeout_s
        while time.monotonic() < deadline:
            application = (await asyncio.to_thread(serve.status)).applications.get(self.app_name)
            if application is None or application.status == "RUNNING":
                return
            await asyncio.sleep(0.5)
        log.warning("model %s: not all replicas of %s started within %.0f s; it serves with those that did",
                    self.card.id, self.options, self.patience.deploy_timeout_s)

    async def unload(self) -> None:
        """Delete the deployment (its replicas stop); the next call deploys it again."""
        async with self._lock:
            name, self.app_name, self._handle = self.app_name, "", None
            if name:
                await asyncio.to_thread(_delete, name)

    def close(self) -> None:
        if self.app_name:
            _delete(self.app_name, blocking=False)
            self.app_name, self._handle = "", None


def _delete(name: str, blocking: bool = True) -> None:
    try:
        serve.delete(name, _blocking=blocking)
    except Exception:  # noqa: BLE001 - the cluster may already be gone when the server stops
        log.warning("could not delete the Ray Serve application %s", name, exc_info=True)


def _status(name: str):
    import grpc

    return getattr(grpc.StatusCode, name, grpc.StatusCode.INTERNAL)
