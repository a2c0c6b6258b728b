"""`bioclass serve`: build settings, start the server, print the ready line."""
from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import ValidationError

from bioclass.server.grpc.app import BioclassServer, serve
from bioclass.server.settings import Settings


def run(overrides: dict, extra_zoos: list[Path], builtin: bool = True) -> int:
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ValueError(f"invalid setting: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None
    zoos = (list(settings.zoo_dirs) if builtin else []) + extra_zoos
    settings = settings.model_copy(update={"zoo_dirs": zoos})

    def ready(server: BioclassServer) -> None:
        zoo = server.service.zoo
        print(f"bioclass ready on {server.address} ({len(zoo.runners)} models, {len(zoo.problems)} zoo problems)",
              flush=True)

    asyncio.run(serve(settings, ready))
    return 0
