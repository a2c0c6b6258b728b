"""A card's Ray serving options (`serving:` replicas, autoscaling, ray_actor_options), checked once.

Without --ray these keys are ignored: one machine serves each model from its own processes.
"""
from __future__ import annotations

from bioclass.errors import InvalidArgument

_AUTOSCALING = {"min_replicas": int, "max_replicas": int, "initial_replicas": int,
                "target_ongoing_requests": float, "upscale_delay_s": float, "downscale_delay_s": float}
_ACTOR = {"num_cpus": float, "num_gpus": float, "memory": float, "resources": dict}


def deployment_options(serving: dict, replicas: int, replica_cpus: float, autoscaling: dict | None = None) -> dict:
    """Ray Serve deployment options for a card; `replicas`, `replica_cpus` and `autoscaling` are the
    server's defaults (autoscaling, when set, instead of a fixed count)."""
    if "replicas" in serving and "autoscaling" in serving:
        raise InvalidArgument("serving.replicas and serving.autoscaling exclude each other")
    options = {"ray_actor_options": _actor_options(serving.get("ray_actor_options", {}), replica_cpus)}
    if "autoscaling" in serving or (autoscaling and "replicas" not in serving):
        options["autoscaling_config"] = _autoscaling(serving.get("autoscaling", autoscaling))
    else:
        options["num_replicas"] = _count(serving.get("replicas", replicas), "serving.replicas")
    return options


def replica_threads(options: dict) -> int:
    """Each replica's forward passes use the cores it reserved."""
    return max(1, int(options["ray_actor_options"]["num_cpus"]))


def _actor_options(values, replica_cpus: float) -> dict:
    checked = _checked(values, _ACTOR, "serving.ray_actor_options")
    for name, amount in checked.get("resources", {}).items():
        if not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount <= 0:
            raise InvalidArgument(f"serving.ray_actor_options.resources.{name} must be a positive number; "
                                  f"got {amount!r}")
    return {"num_cpus": replica_cpus, **checked}


def _autoscaling(values) -> dict:
    checked = _checked(values, _AUTOSCALING, "serving.autoscaling")
    low, high = checked.get("min_replicas", 1), checked.get("max_replicas", 1)
    if low < 0 or high < max(1, low):
        raise InvalidArgument(f"serving.autoscaling needs 0 <= min_replicas <= max_replicas and max_replicas >= 1; "
                              f"got {low} and {high}")
    return checked


def _checked(values, types: dict, where: str) -> dict:
    if not isinstance(values, dict):
        raise InvalidArgument(f"{where} must be a mapping; got {values!r}")
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise InvalidArgument(f"{where}: unknown keys {unknown}; known: {', '.join(types)}")
    for name, value in values.items():
        wanted = types[name]
        numeric = wanted in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (numeric and (wanted is float or isinstance(value, int)) and value >= 0) and \
                not (wanted is dict and isinstance(value, dict)):
            raise InvalidArgument(f"{where}.{name} must be a non-negative {wanted.__name__}; got {value!r}")
    return dict(values)


def _count(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument(f"{where} must be an integer >= 1; got {value!r}")
    return value
