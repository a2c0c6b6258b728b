"""Networks to train: timm or torchvision architectures, or bioclass's compact CNNs for few labels.

Pretrained weights come from a path the user gives, or (pretrained "auto") from the timm / Hugging
Face / torch hub caches, downloaded there on first use (pretrained.py); when they cannot be had,
training starts from scratch and the job says why in one line.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from bioclass.errors import FailedPrecondition, InvalidArgument, NotFound
from bioclass.training import ARCHITECTURES
from bioclass.server.training import compact, pretrained

LIBRARIES = ("timm", "torchvision", "bioclass")
# What an unknown name's message suggests: the list every client offers (one list, in the client package).
SUGGESTED = ARCHITECTURES


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


def build(arch: str, classes: int, weights: str, log: Callable[[str], None] | None = None
          ) -> tuple[torch.nn.Module, str]:
    """The network with a new head, and where its starting weights came from ("" = scratch).

    `log` receives one line on where training starts from (with the reason when from scratch) and a
    download's progress lines.
    """
    log = log or (lambda line: None)
    library, name = split_name(arch)
    network = _create(library, name, classes)
    source = _weights_file(library, name, network, weights, log)
    if source:
        _load_body(network, source)
        log(f"starting from pretrained weights {source}")
    return network, str(source or "")


def _create(library: str, name: str, classes: int) -> torch.nn.Module:
    if library == "timm":
        import timm

        return timm.create_model(name, pretrained=False, num_classes=classes)
    if library == "bioclass":
        return compact.create_model(name, classes)
    import torchvision

    return torchvision.models.get_model(name, weights=None, num_classes=classes)


def _weights_file(library: str, name: str, network: torch.nn.Module, weights: str, log) -> Path | None:
    if weights == "none":
        log(f"{library}:{name}: training from scratch (pretrained: none)")
        return None
    if weights != "auto":
        path = Path(weights)
        if not path.is_file():
            raise InvalidArgument(f"pretrained weights file {weights} does not exist on the server")
        return path
    if library == "bioclass":
        log(f"{library}:{name}: training from scratch (made for it: no published weights)")
        return None
    try:
        return pretrained.fetch(pretrained.published(library, name, network), log)
    except pretrained.Unavailable as reason:
        log(f"no pretrained weights for {library}:{name}: {reason}; training from scratch")
        return None


def prefetch(arch: str, log: Callable[[str], None], fallback: str = "; training from scratch") -> str:
    """What a job starts from, fetched before its sandbox (which has no network): the published weights'
    path in the cache, "none" with the reason logged (and the fallback) when they cannot be had, "auto" for
    bioclass's own."""
    library, name = split_name(arch)
    if library == "bioclass":
        return "auto"
    try:
        return str(pretrained.fetch(pretrained.published(library, name, _create(library, name, 2)), log))
    except pretrained.Unavailable as reason:
        log(f"no pretrained weights for {library}:{name}: {reason}{fallback}")
        return "none"


def pull(arch: str, log: Callable[[str], None]) -> Path:
    """Download an architecture's published weights into the cache (`bioclass weights pull`)."""
    library, name = _published_library(arch)
    try:
        return pretrained.fetch(pretrained.published(library, name, _create(library, name, 2)), log)
    except pretrained.Unavailable as reason:
        raise FailedPrecondition(f"no pretrained weights for {arch}: {reason}") from None


def import_weights(arch: str, source: Path) -> Path:
    """Put a local weights file where training with pretrained "auto" finds it (`bioclass weights import`).
    Refused (INVALID_ARGUMENT) when it does not fit the architecture."""
    library, name = _published_library(arch)
    if not source.is_file():
        raise InvalidArgument(f"weights file {source} does not exist")
    _load_body(_create(library, name, 2), source)
    return pretrained.import_file(f"{library}:{name}", source)


def _published_library(arch: str) -> tuple[str, str]:
    check_architecture(arch)
    library, name = split_name(arch)
    if library == "bioclass":
        raise InvalidArgument(f"{arch} trains from scratch: bioclass architectures have no pretrained weights")
    return library, name


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
