"""Joining the Ray cluster the server was pointed at, and what the zoo builds on it."""
from __future__ import annotations

import logging
import socket
from pathlib import Path

import ray
from ray import serve

from bioclass.server.batching import BatchPolicy
from bioclass.server.cards import ModelCard
from bioclass.server.settings import Settings

log = logging.getLogger(__name__)
NAMESPACE = "bioclass"
CONNECT_TIMEOUT_S = 5.0


def connect(settings: Settings) -> None:
    """Join the cluster as a driver and start Serve there without its HTTP proxies (gRPC is ours)."""
    join(settings.ray_address)
    serve.start(proxy_location="Disabled")
    resources = ray.cluster_resources()
    log.info("joined the Ray cluster at %s: %d nodes, %g CPUs", settings.ray_address,
             len([n for n in ray.nodes() if n["Alive"]]), resources.get("CPU", 0))


def join(address: str) -> None:
    """Join the cluster at address as a driver (also what an AutoML run asking for a cluster does).

    ValueError: not HOST:PORT; ConnectionError: nobody answers there, or it is not a Ray cluster."""
    if address != "auto":
        _check_reachable(address)
    try:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConnectionError(f"cannot join the Ray cluster at {address}: {exc}") from None


def joined_address() -> str:
    """HOST:PORT of the cluster this process has joined ("" when none): 'auto' resolved."""
    return ray.get_runtime_context().gcs_address if ray.is_initialized() else ""


def runner_factory(settings: Settings, defaults: BatchPolicy):
    """What the zoo calls to serve a model folder: a runner whose replicas live on the cluster."""
    from bioclass.server.ray.runner import Patience, RayModelRunner

    def make(card: ModelCard, folder: Path) -> RayModelRunner:
        return RayModelRunner(card, folder, defaults, settings.ray_replicas, settings.ray_replica_cpus,
                              settings.ray_model_store, settings.ray_autoscaling,
                              Patience(settings.ray_retry_s, settings.ray_deploy_timeout_s))

    return make


def _check_reachable(address: str) -> None:
    """Fail at once on a wrong address (ray.init would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--ray wants HOST:PORT of the cluster's head (or 'auto'); got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach the Ray cluster's head at {address}: {exc}") from None
