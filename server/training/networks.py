"""Networks to train: timm or torchvision architectures, or bioclass's compact CNNs for few labels.

Nothing is downloaded: pretrained weights come from a path the user gives, or from the timm /
Hugging Face / torch hub caches when they are already there; otherwise training starts from
scratch and the job says so.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from bioclass.errors import InvalidArgument, NotFound
from bioclass.server.training import compact

# Compact and standard architectures the issue names, as timm names (torchvision:NAME works too);
# bioclass:small_cnn3 / small_cnn4 train from scratch on a few dozen labels (compact.py).
LIBRARIES = ("timm", "torchvision", "bioclass")
SUGGESTED = ("bioclass:small_cnn3", "mobilenetv3_small_100", "mobilenetv3_large_100", "efficientnet_b0",
             "efficientnet_lite0", "resnet18", "mnasnet_100", "mixnet_s", "resnet50", "densenet121",
             "torchvision:squeezenet1_1", "torchvision:shufflenet_v2_x1_0")


def check_architecture(arch: str) -> None:
    """NOT_FOUND for a name neither library knows (checked when the job is queued)."""
    library, name = split_name(arch)
    if library == "timm":
        import timm

        if not timm.is_model(name):
            raise NotFound(f"unknown architecture {arch!r}; e.g. {', '.join(SUGGESTED)}")
    elif library == "bioclass":
        if name not in compact.WIDTHS:
            raise NotFound(f"unknown bioclass architecture {name!r}; known: {', '.join(compact.names())}")
    else:
        import torchvision

        if name not in torchvision.models.list_models():
            raise NotFound(f"unknown torchvision architecture {name!r}")


def split_name(arch: str) -> tuple[str, str]:
    library, _, name = arch.rpartition(":")
    library = library or "timm"
    if library not in LIBRARIES or not name:
        raise InvalidArgument(f"architecture must be NAME, timm:NAME, torchvision:NAME or bioclass:NAME, "
                              f"not {arch!r}")
    return library, name


def build(arch: str, classes: int, pretrained: str) -> tuple[torch.nn.Module, str]:
    """The network with a new head, and where its starting weights came from ("" = scratch)."""
    library, name = split_name(arch)
    if library == "timm":
        import timm

        network = timm.create_model(name, pretrained=False, num_classes=classes)
    elif library == "bioclass":
        network = compact.create_model(name, classes)
    else:
        import torchvision

        network = torchvision.models.get_model(name, weights=None, num_classes=classes)
    source = _weights_file(library, name, network, pretrained)
    if source:
        _load_body(network, source)
    return network, str(source or "")


def _weights_file(library: str, name: str, network: torch.nn.Module, pretrained: str) -> Path | None:
    if pretrained == "none":
        return None
    if pretrained != "auto":
        path = Path(pretrained)
        if not path.is_file():
            raise InvalidArgument(f"pretrained weights file {pretrained} does not exist on the server")
        return path
    if library == "bioclass":
        return None  # made for training from scratch: no published weights to look for
    return _cached_timm(network) if library == "timm" else _cached_torchvision(name)


def _cached_timm(network: torch.nn.Module) -> Path | None:
    config = getattr(network, "pretrained_cfg", {}) or {}
    hub_id = config.get("hf_hub_id")
    if hub_id:
        try:
            from huggingface_hub import try_to_load_from_cache

            for filename in ("model.safetensors", "pytorch_model.bin"):
                found = try_to_load_from_cache(hub_id, filename)
                if isinstance(found, str):
                    return Path(found)
        except ImportError:
            pass
    url = config.get("url")
    if url:
        candidate = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)
        return candidate if candidate.is_file() else None
    return None


def _cached_torchvision(name: str) -> Path | None:
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
    except (ValueError, AttributeError):
        return None
    candidate = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    return candidate if candidate.is_file() else None


def _load_body(network: torch.nn.Module, path: Path) -> None:
    """Every tensor whose name and shape fit; the classifier head keeps its fresh initialisation."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
    own = network.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if len(fitting) < len(own) // 2:
        raise InvalidArgument(f"pretrained weights {path} do not fit the architecture "
                              f"({len(fitting)} of {len(own)} tensors match)")
    network.load_state_dict(fitting, strict=False)


def head_parameters(network: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The classifier's parameters: timm's get_classifier(), else the last linear or conv layer."""
    if hasattr(network, "get_classifier"):
        head = network.get_classifier()
        if isinstance(head, torch.nn.Module) and list(head.parameters()):
            return list(head.parameters())
    last = [m for m in network.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))][-1]
    return list(last.parameters())


def parameter_groups(network: torch.nn.Module) -> tuple[list, list]:
    """(body, head) parameter lists for discriminative learning rates."""
    head_ids = {id(p) for p in head_parameters(network)}
    body = [p for p in network.parameters() if id(p) not in head_ids]
    head = [p for p in network.parameters() if id(p) in head_ids]
    return body, head
