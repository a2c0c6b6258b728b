"""One replica of a model on the Ray cluster: the single-machine ModelRunner inside a Serve deployment.

A replica is a Ray actor on some node. It loads the model with the same code as the single
process server (a model process per instance, the same warm-up check on zeros) and merges the
requests that reach it with the same BatchQueue, so batching happens inside the replica. Answers
are plain tuples, never raised exceptions, so the front gets each failure's gRPC status intact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import ray
from ray import serve

from bioclass.errors import BioclassError
from bioclass.server.batching import BatchPolicy
from bioclass.server.cards import read_card
from bioclass.server.ray import store
from bioclass.server.runner import ModelRunner


@serve.deployment
class ModelReplica:
    async def __init__(self, location: str, published: bool, threads: int, policy: dict):
        self.node_id = ray.get_runtime_context().get_node_id()
        # A published model is copied to this node first (store.py); otherwise the path is shared storage.
        self.fetched = store.fetch(location) if published else None
        folder = self.fetched or Path(location)
        self.runner = ModelRunner(read_card(folder), folder, threads, BatchPolicy(**policy))
        try:
            await self.runner.ensure_loaded()  # a replica is ready once its model answers
        except BioclassError:
            pass  # kept in runner.error; every call reports it

    def ready(self) -> tuple[str, str, str]:
        """(node id, load note, load error) of this replica."""
        return self.node_id, self.runner.load_note, self.runner.error

    async def infer(self, batch: np.ndarray, method: str) -> tuple:
        """("ok", probabilities, compute_ms, node_id) or ("error", status name, message)."""
        try:
            probabilities, compute_ms = await self.runner.infer(batch, method)
        except BioclassError as exc:
            return "error", exc.code.name, exc.message
        return "ok", probabilities, compute_ms, self.node_id

    def __del__(self):
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.close()
        if getattr(self, "fetched", None) is not None:
            store.discard(self.fetched)
