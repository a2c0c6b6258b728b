"""A card's Ray serving options (`serving:` replicas, autoscaling, ray_actor_options) as Ray Serve's.

They are typed and checked with the card (server/cards.py ServingOptions). Without --ray these
keys are ignored: one machine serves each model from its own processes.
"""
from __future__ import annotations

from bioclass.errors import InvalidArgument
from bioclass.server.cards import ServingOptions, serving_options


def deployment_options(serving: ServingOptions, replicas: int, replica_cpus: float,
                       autoscaling: dict | None = None) -> dict:
    """Ray Serve deployment options for a card; `replicas`, `replica_cpus` and `autoscaling` are the
    server's defaults (autoscaling, when set, instead of a fixed count)."""
    if serving.replicas is not None and serving.autoscaling is not None:
        raise InvalidArgument("serving.replicas and serving.autoscaling exclude each other")
    actor = serving.ray_actor_options.model_dump(exclude_none=True) if serving.ray_actor_options else {}
    options = {"ray_actor_options": {"num_cpus": replica_cpus, **actor}}
    if serving.autoscaling is not None:
        options["autoscaling_config"] = serving.autoscaling.model_dump(exclude_none=True)
    elif autoscaling and serving.replicas is None:
        server_wide = serving_options({"autoscaling": autoscaling}).autoscaling
        options["autoscaling_config"] = server_wide.model_dump(exclude_none=True)
    else:
        options["num_replicas"] = serving.replicas or replicas
    return options


def replica_threads(options: dict) -> int:
    """Each replica's forward passes use the cores it reserved."""
    return max(1, int(options["ray_actor_options"]["num_cpus"]))
