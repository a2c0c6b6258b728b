"""`bioclass serve`: build settings, start the server, print the ready line."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pydantic import ValidationError

from bioclass.server.allocator import keep_freed_memory
from bioclass.server.grpc.app import BioclassServer, format_address, serve
from bioclass.server.settings import Settings


def run(overrides: dict, extra_zoos: list[Path], builtin: bool = True, py4j_port: int | None = None) -> int:
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = f"{error['loc'][0]}: " if error["loc"] else ""
        raise ValueError(f"invalid setting: {where}{error['msg'].removeprefix('Value error, ')}") from None
    zoos = (list(settings.zoo_dirs) if builtin else []) + extra_zoos
    settings = settings.model_copy(update={"zoo_dirs": zoos})
    keep_freed_memory(settings.retained_heap_mb)  # before the first request's buffers

    gateways = []

    def ready(server: BioclassServer) -> None:
        zoo = server.service.zoo
        if py4j_port is not None:
            from bioclass.py4j_gateway import start_gateway

            gateways.append(gateway := start_gateway(py4j_port, server.address, **_gateway_connection(server.settings)))
            print(f"bioclass py4j gateway on 127.0.0.1:{gateway.port}", flush=True)
            print(f"bioclass py4j gateway auth token in {gateway.auth_token_file}", flush=True)
        if server.metrics_port is not None:
            print(f"bioclass metrics on http://{format_address(server.settings.host, server.metrics_port)}/metrics",
                  flush=True)
        print(f"bioclass ready on {server.address} ({len(zoo.runners)} models, {len(zoo.problems)} zoo problems)",
              flush=True)

    try:
        asyncio.run(serve(settings, ready))
    finally:
        for gateway in gateways:
            gateway.stop()
    return 0


def _gateway_connection(settings: Settings) -> dict:
    """The in-process py4j gateway is a client of this server: it sends the server's own token and, on a
    TLS port, trusts $BIOCLASS_TLS_CA or else the server's certificate file (enough when that file
    holds the chain up to its CA, or the certificate is self-signed). A client certificate for mutual
    TLS comes from $BIOCLASS_TLS_CERT and $BIOCLASS_TLS_KEY, as for any Python client."""
    connection: dict = {"token": settings.token}
    if settings.tls_cert:
        connection["ca_cert"] = os.environ.get("BIOCLASS_TLS_CA") or str(settings.tls_cert)
    return connection
