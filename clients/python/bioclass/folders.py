"""Folders of images as every folder command meets them: stray files, unreadable images, a summary.

`image_items` expands files and folders into what to classify (one item per TIFF page) and what
was skipped before sending; `skipped_prediction` adds what the server refused; `summary` is the
closing line ("998 classified, 2 skipped: notes.txt not an image, bad.png truncated").
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bioclass.errors import InvalidArgument
from bioclass.images import FILE_SUFFIXES, count_pages
from bioclass.messages import NOT_AN_IMAGE, image_reason

SUMMARY_NAMES = 5  # skipped files named in the summary; the rest are counted


@dataclass(frozen=True)
class Skipped:
    """A file (or page) not classified: `reason` in a few words, `detail` the full message."""

    name: str
    reason: str
    detail: str = ""

    def line(self) -> str:
        return f"skipped {self.name}: {self.reason}"


@dataclass
class ImageItems:
    """(path, name, page) to send, in order, and the files skipped before sending."""

    items: list[tuple[Path, str, int]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def image_items(paths: list[str | Path], relative_to: Path | None = None) -> ImageItems:
    """Files named are sent as they are; folders are searched (sorted, recursively) and their files
    that are not images are skipped. Items are named by their path (relative to `relative_to`).
    Raises InvalidArgument for a path that does not exist or when nothing is left to classify."""
    found = ImageItems()
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                _add(found, file, relative_to, named=False)
        elif path.exists():
            _add(found, path, relative_to, named=True)
        else:
            raise InvalidArgument(f"no such file or folder: {path}")
    if not found.items:
        others = f" (skipped: {named_reasons(found.skipped)})" if found.skipped else ""
        raise InvalidArgument(f"no images to classify in {', '.join(map(str, paths))}{others}; "
                              f"images end in {', '.join(FILE_SUFFIXES)}")
    return found


def _add(found: ImageItems, path: Path, relative_to: Path | None, named: bool) -> None:
    name = str(path if relative_to is None else path.relative_to(relative_to))
    if not named and path.suffix.lower() not in FILE_SUFFIXES:
        found.skipped.append(Skipped(name, NOT_AN_IMAGE))
    elif not os.access(path, os.R_OK):
        found.skipped.append(Skipped(name, "cannot be read", "permission denied"))
    elif path.suffix.lower() in (".tif", ".tiff"):
        try:
            pages = count_pages(path)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:  # what Pillow raises for a broken file
            found.skipped.append(Skipped(name, image_reason(str(exc)), str(exc)))
            return
        found.items.extend((path, name if pages == 1 else f"{name}[{page}]", page) for page in range(pages))
    else:
        found.items.append((path, name, 0))


def skipped_prediction(prediction) -> Skipped:
    """A prediction the server refused, as a skipped file."""
    return Skipped(prediction.name, image_reason(prediction.error), f"{prediction.error_code}: {prediction.error}")


def summary(classified: int, skipped: list[Skipped]) -> str:
    """e.g. "998 classified, 2 skipped: notes.txt not an image, bad.png truncated"."""
    text = f"{classified} classified"
    return f"{text}, {len(skipped)} skipped: {named_reasons(skipped)}" if skipped else text


def named_reasons(skipped: list[Skipped]) -> str:
    """e.g. "notes.txt not an image, bad.png truncated", the first few by file name."""
    named = ", ".join(f"{Path(s.name).name} {s.reason}" for s in skipped[:SUMMARY_NAMES])
    return named + (f" and {len(skipped) - SUMMARY_NAMES} more" if len(skipped) > SUMMARY_NAMES else "")
