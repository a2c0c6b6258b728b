"""A model store the cluster's nodes share, through fsspec (a shared path, file://, s3://, gs://, ...).

With `ray_model_store` set, the server publishes each model folder it serves there once, under
its id and a digest of its files, and every replica copies it to its own node before loading.
Published folders are never changed (a new version gets a new digest), so a replica never reads
a half-written model; the `.complete` marker is written last. Without the setting, replicas read
the server's own folders, which must then be on storage that every node mounts at the same path.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

COMPLETE = ".complete"


def publish(folder: Path, model_id: str, store: str) -> str:
    """The store location of the folder's content, copied there unless already present."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(store)
    target = f"{root.rstrip('/')}/{model_id}-{_digest(folder)}"
    if not fs.exists(f"{target}/{COMPLETE}"):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            remote = f"{target}/{path.relative_to(folder).as_posix()}"
            fs.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(path), remote)
        fs.pipe_file(f"{target}/{COMPLETE}", b"")
    return fs.unstrip_protocol(target) if "://" in store else target


def fetch(location: str) -> Path:
    """A local copy of a published folder (a temporary folder the caller removes with `discard`)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    if not fs.exists(f"{root}/{COMPLETE}"):
        raise FileNotFoundError(f"{location} is not a complete published model folder")
    local = Path(tempfile.mkdtemp(prefix="bioclass-replica-")) / Path(root).name
    for remote in fs.find(root):
        relative = remote[len(root.rstrip("/")) + 1:]
        if relative == COMPLETE:
            continue
        (local / relative).parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(remote, str(local / relative))
    return local


def discard(local: Path) -> None:
    shutil.rmtree(local.parent, ignore_errors=True)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
