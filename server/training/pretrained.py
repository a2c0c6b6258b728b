"""Published weights of timm and torchvision architectures: found in the usual caches, downloaded into
them on first use when the hubs can be reached, or imported there from a local file.

timm weights on the Hugging Face Hub go to its cache (HF_HOME; HF_ENDPOINT names a mirror); other timm
weights and torchvision's go to torch hub's checkpoints (TORCH_HOME), as timm and torchvision put them.
A file given to `bioclass weights import` lies in torch hub's checkpoints under a bioclass name and is
found first. Offline, nothing waits on retries: one short connection attempt tells, and the caller
trains from scratch with that reason.
"""
from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import torch

HF_FILES = ("model.safetensors", "pytorch_model.bin")
CONNECT_SECONDS = 5.0
IMPORTED_SUFFIXES = (".safetensors", ".pth")
Log = Callable[[str], None]


class Unavailable(Exception):
    """The weights are neither cached nor downloadable; the message is the one-line reason."""


@dataclass(frozen=True)
class Published:
    """Where an architecture's published weights live: a Hugging Face repo, a plain URL, or both."""
    arch: str
    hub_id: str = ""
    url: str = ""


def published(library: str, name: str, network: torch.nn.Module) -> Published:
    if library == "timm":
        config = getattr(network, "pretrained_cfg", {}) or {}
        return Published(f"timm:{name}", config.get("hf_hub_id") or "", config.get("url") or "")
    import torchvision

    try:
        return Published(f"torchvision:{name}", url=torchvision.models.get_model_weights(name).DEFAULT.url)
    except (ValueError, AttributeError):
        return Published(f"torchvision:{name}")


def imported_path(arch: str, suffix: str = ".pth") -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / f"bioclass-{arch.replace(':', '-')}{suffix}"


def cached(weights: Published) -> Path | None:
    """An imported file, else the Hugging Face cache's copy, else torch hub's."""
    for suffix in IMPORTED_SUFFIXES:
        if imported_path(weights.arch, suffix).is_file():
            return imported_path(weights.arch, suffix)
    if weights.hub_id:
        from huggingface_hub import try_to_load_from_cache

        for filename in HF_FILES:
            found = try_to_load_from_cache(weights.hub_id, filename)
            if isinstance(found, str):
                return Path(found)
    if weights.url and _checkpoint(weights.url).is_file():
        return _checkpoint(weights.url)
    return None


def fetch(weights: Published, log: Log) -> Path:
    """The cached file, downloaded first when it is not there; Unavailable with the reason otherwise."""
    found = cached(weights)
    if found:
        return found
    if weights.hub_id:
        return _from_hugging_face(weights.hub_id, log)
    if weights.url:
        return _from_url(weights.url, log)
    raise Unavailable(f"{weights.arch} has no published weights")


def _from_hugging_face(hub_id: str, log: Log) -> Path:
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    if constants.HF_HUB_OFFLINE:
        raise Unavailable("HF_HUB_OFFLINE is set")
    _check_reachable(constants.ENDPOINT)
    for filename in HF_FILES:
        log(f"downloading {hub_id}/{filename} from {constants.ENDPOINT}")
        try:
            return Path(hf_hub_download(hub_id, filename, tqdm_class=_progress_lines(log, filename)))
        except EntryNotFoundError:
            continue
        except Exception as exc:  # noqa: BLE001 - any hub failure means: train from scratch, say why
            raise Unavailable(f"downloading {hub_id} failed: {_one_line(exc)}") from None
    raise Unavailable(f"{hub_id} holds none of {', '.join(HF_FILES)}")


def _from_url(url: str, log: Log) -> Path:
    _check_reachable(url)
    target = _checkpoint(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # whole files only reach the cache
    log(f"downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            _copy_with_progress(response, out, int(response.headers.get("Content-Length") or 0),
                                _progress(log, target.name))
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise Unavailable(f"downloading {url} failed: {_one_line(exc)}") from None
    os.replace(partial, target)
    return target


def _copy_with_progress(source, target, total: int, report: Callable[[int, int], None]) -> None:
    done = 0
    while chunk := source.read(1 << 20):
        target.write(chunk)
        done += len(chunk)
        report(done, total)


def _progress(log: Log, label: str) -> Callable[[int, int], None]:
    """A line at each quarter of the download (and at its end when the size is unknown)."""
    said = {"quarter": -1, "started": time.perf_counter()}

    def report(done: int, total: int) -> None:
        quarter = done * 4 // total if total else -1
        if quarter > said["quarter"]:
            said["quarter"] = quarter
            log(f"{label}: {done / 1e6:.1f} of {total / 1e6:.1f} MB ({quarter * 25}%, "
                f"{time.perf_counter() - said['started']:.1f} s)")

    return report


def _progress_lines(log: Log, label: str):
    """A tqdm class for huggingface_hub that reports through `log` instead of drawing a bar."""
    from tqdm.auto import tqdm

    report = _progress(log, label)

    class ProgressLines(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.update(disable=False, file=open(os.devnull, "w"))  # noqa: SIM115 - closed with the bar
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            super().update(n)
            report(int(self.n), int(self.total or 0))

        def close(self):
            super().close()
            self.fp.close()

    return ProgressLines


def _check_reachable(url: str) -> None:
    """One connection attempt, so an offline machine falls back at once instead of after the hub's retries."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise Unavailable(f"{parts.hostname}:{port} cannot be reached ({_one_line(exc)})") from None


def import_file(arch: str, source: Path) -> Path:
    """Copy a weights file where `cached` finds it first (an earlier import of the architecture is replaced)."""
    suffix = ".safetensors" if source.suffix == ".safetensors" else ".pth"
    target = imported_path(arch, suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    for other in IMPORTED_SUFFIXES:
        imported_path(arch, other).unlink(missing_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target


def _checkpoint(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlsplit(url).path)


def _one_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{text} ({cause})" if cause and str(cause) not in text else text
