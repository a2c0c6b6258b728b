"""Server paths a client names (a dataset folder to evaluate or train on, an image to tile) are read only
under the operator's data roots (--data-root); without one, no server path is read at all.

Refusals name the roots, never what lies outside them: a client learns nothing about other folders.
"""
from __future__ import annotations

from pathlib import Path

from bioclass.errors import InvalidArgument, NotFound, PermissionDenied

NO_ROOTS = ("{what}: this server reads no folders of its own; its operator can allow some with --data-root DIR "
            "(or upload the dataset instead)")


def server_folder(path: str, roots: list[Path], what: str) -> Path:
    """The existing folder `path`, when it lies under one of `roots` once links are resolved."""
    folder = _under_roots(path, roots, what)
    if not _is_folder(folder.resolve()):
        raise InvalidArgument(f"{what}: {path} is not a folder on the server")
    return folder


def server_file(path: str, roots: list[Path], what: str) -> Path:
    """The existing file `path` (links resolved), when it lies under one of `roots`."""
    resolved = _under_roots(path, roots, what).resolve()
    if _is_folder(resolved):
        raise InvalidArgument(f"{what}: {path} is a folder; name an image file")
    if not _is_file(resolved):
        raise NotFound(f"{what}: there is no file {path} on the server")
    return resolved


def _under_roots(path: str, roots: list[Path], what: str) -> Path:
    if not roots:
        raise PermissionDenied(NO_ROOTS.format(what=what))
    if "\0" in path:
        raise InvalidArgument(f"{what}: a path cannot hold a NUL character")
    named = Path(path)
    resolved = named.resolve()
    if not named.is_absolute() or not any(resolved.is_relative_to(root.resolve()) for root in roots):
        raise PermissionDenied(f"{what}: the server reads only absolute paths under its data roots "
                               f"({', '.join(str(root) for root in roots)})")
    return named


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, a folder we may not enter
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False
