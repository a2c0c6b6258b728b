"""Safe extraction of uploaded zip and tar archives.

An archive is untrusted: every member must be a plain file or folder with a relative path that
stays inside the target (no absolute paths, no "..", no links or devices), and the bytes actually
written are counted against a limit, so a compression bomb stops early instead of filling the disk.
"""
from __future__ import annotations

import errno
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from bioclass.errors import InvalidArgument

MAX_MEMBERS = 200_000
COPY_CHUNK = 1024 * 1024


def extract(archive: Path, fmt: str, target: Path, max_bytes: int) -> None:
    """Extract `archive` ("zip" or "tar") into the existing folder `target`."""
    budget = [max_bytes]
    try:
        if fmt == "zip":
            _extract_zip(archive, target, budget)
        elif fmt == "tar":
            _extract_tar(archive, target, budget)
        else:
            raise InvalidArgument(f"unknown archive format {fmt!r}; expected zip or tar")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise InvalidArgument(f"corrupt {fmt} archive: {exc}") from None
    except OSError as exc:
        if exc.errno not in _MEMBER_CLASHES:
            raise
        member = Path(exc.filename or "").relative_to(target) if exc.filename else "a member"
        raise InvalidArgument(f"unusable {fmt} archive: {member}: {exc.strerror} (a file and a folder of one "
                              "name, or a name too long)") from None


# What the operating system says when members do not fit together as files (never the server's fault).
_MEMBER_CLASHES = {errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG}


def _extract_zip(archive: Path, target: Path, budget: list[int]) -> None:
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        _check_count(len(members))
        for info in members:
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise InvalidArgument(f"unsafe archive: {info.filename} is a link")
            destination = _confined(target, info.filename)
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            with bundle.open(info) as source:
                _copy_limited(source, destination, budget, info.filename)


def _extract_tar(archive: Path, target: Path, budget: list[int]) -> None:
    with tarfile.open(archive, mode="r:*") as bundle:
        count = 0
        for member in bundle:
            count += 1
            _check_count(count)
            if not (member.isfile() or member.isdir()):
                raise InvalidArgument(f"unsafe archive: {member.name} is a link or special file")
            destination = _confined(target, member.name)
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            source = bundle.extractfile(member)
            _copy_limited(source, destination, budget, member.name)


def _confined(target: Path, name: str) -> Path:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise InvalidArgument(f"unsafe archive: member {name!r} points outside the dataset folder")
    destination = target.joinpath(*[p for p in path.parts if p not in ("", ".")])
    if not destination.resolve().is_relative_to(target.resolve()):
        raise InvalidArgument(f"unsafe archive: member {name!r} points outside the dataset folder")
    return destination


def _copy_limited(source: BinaryIO, destination: Path, budget: list[int], name: str) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise InvalidArgument(f"archive too large once extracted (stopped at {name}); "
                                      "the server's limit is max_dataset_bytes")
            out.write(chunk)


def _check_count(count: int) -> None:
    if count > MAX_MEMBERS:
        raise InvalidArgument(f"archive has more than {MAX_MEMBERS} members")


def dataset_root(extracted: Path) -> Path:
    """The folder holding the class folders: the archive's single top folder when it has one."""
    entries = [p for p in extracted.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir() and any(p.is_dir() for p in entries[0].iterdir()):
        return entries[0]
    return extracted


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
