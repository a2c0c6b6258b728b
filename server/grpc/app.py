"""Assemble and run the gRPC server: our API, health checking and reflection on one port."""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from bioclass.server.grpc.security import AccessInterceptor, needs_guard, server_credentials
from bioclass.server.grpc.classifier_servicer import ClassifierServicer
from bioclass.server.grpc.automl_servicer import add_automl
from bioclass.server.grpc.training_servicer import add_training
from bioclass.server.grpc.oip_servicer import add_inference_service
from bioclass.server.service import ClassifierService
from bioclass.server.settings import Settings
from bioclass.v1 import classifier_pb2, classifier_pb2_grpc

log = logging.getLogger("bioclass.server")


def add_classifier(server: grpc.aio.Server, service: ClassifierService) -> str:
    classifier_pb2_grpc.add_ClassifierServicer_to_server(ClassifierServicer(service), server)
    return classifier_pb2.DESCRIPTOR.services_by_name["Classifier"].full_name


# Each entry adds one gRPC service and returns its full name (for health and reflection).
SERVICES: list[Callable[[grpc.aio.Server, ClassifierService], str]] = [add_classifier]
SERVICES.append(add_inference_service)  # the Open Inference Protocol (tritonclient)
SERVICES.append(add_training)  # training jobs, datasets, augmentation preview
SERVICES.append(add_automl)  # AutoML runs: Optuna search over training jobs, int8 export


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class BioclassServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.service = ClassifierService(settings)
        limit = settings.max_message_bytes
        interceptors = [AccessInterceptor(settings)] if needs_guard(settings) else []
        self.server = grpc.aio.server(interceptors=interceptors,
                                      options=[("grpc.max_receive_message_length", limit),
                                               ("grpc.max_send_message_length", limit)])
        names = [add(self.server, self.service) for add in SERVICES]
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = names
        self.metrics_port: int | None = None
        reflection.enable_server_reflection(
            [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            self.server)
        credentials = server_credentials(settings)
        address = format_address(settings.host, settings.port)
        self.port = (self.server.add_secure_port(address, credentials) if credentials
                     else self.server.add_insecure_port(address))
        if not self.port:
            raise OSError(f"cannot bind {format_address(settings.host, settings.port)}")

    @property
    def address(self) -> str:
        return format_address(self.settings.host, self.port)

    async def start(self) -> None:
        await self.server.start()
        for hook in self.service.on_start:
            hook()
        if self.settings.metrics_port is not None:
            self.metrics_port = start_metrics(self.service.zoo, self.settings)
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        zoo = self.service.zoo
        zoo.lifecycle.listeners.append(self._model_health)
        for runner in zoo.all_runners():
            self._model_health(runner)

    def _model_health(self, runner) -> None:
        """Each model's health, under `id@N` and, for its default version, `id`: NOT_SERVING while it loads
        and warms up or when it cannot load; an unloaded model serves (it loads on its next request)."""
        status = (health_pb2.HealthCheckResponse.NOT_SERVING if runner.state in ("LOADING", "FAILED")
                  else health_pb2.HealthCheckResponse.SERVING)
        names = [runner.key, runner.card.id] if self.service.zoo.is_default(runner) else [runner.key]
        for name in names:
            asyncio.ensure_future(self.health.set(name, status))

    async def stop(self, grace: float = 2.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.service.close()


def start_metrics(zoo, settings: Settings) -> int:
    from bioclass.server import metrics

    metrics.watch(lambda: sum(r.state == "LOADED" for r in zoo.all_runners()),
                  lambda: [(r.card.id, i, pid) for r in zoo.all_runners() for i, pid in r.processes()],
                  zoo.all_runners)
    return metrics.start(settings.metrics_port, settings.host)


async def serve(settings: Settings, on_ready: Callable[[BioclassServer], None] | None = None) -> None:
    """Run until SIGINT or SIGTERM."""
    server = BioclassServer(settings)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if on_ready:
        on_ready(server)
    await stop.wait()
    log.info("shutting down")
    await server.stop()
