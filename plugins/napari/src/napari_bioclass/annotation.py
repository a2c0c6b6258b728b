"""Sorting a folder of unlabelled images into classes: the state behind the Annotate tab.

No napari or Qt here. `AnnotationSession` holds the queue of images, the classes, the labels
given so far and an undo stack; every change is written at once to OUT, so closing napari loses
nothing: OUT/<class>/<image> holds a copy of each labelled image (the class-per-folder layout the
training API reads) and OUT/annotations.json the classes, labels and skips, to resume from.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
STATE_FILE = "annotations.json"
SKIP = None  # what an undo entry holds for a skip


@dataclass(frozen=True)
class Progress:
    labelled: int
    skipped: int
    total: int

    def __str__(self) -> str:
        return f"{self.labelled} of {self.total} labelled, {self.skipped} skipped"


def image_files(folder: Path) -> list[Path]:
    """The images directly in `folder`, sorted by name (subfolders are not looked into)."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


class AnnotationSession:
    """Label the images of `source` one at a time into `out`; resumes from out/annotations.json."""

    def __init__(self, source: str | Path, out: str | Path, classes: list[str] | None = None):
        self.source = Path(source)
        self.out = Path(out)
        if self.out.resolve() == self.source.resolve():
            raise ValueError("the output folder must differ from the image folder")
        self.names = [p.name for p in image_files(self.source)]
        self.labels: dict[str, str] = {}
        self.skipped: list[str] = []
        self.history: list[tuple[str, str | None]] = []  # (image, class or SKIP), newest last
        self.order: list[str] = []  # preferred order of the unlabelled images (least certain first)
        self.classes: list[str] = []
        self._load()
        self.set_classes(classes if classes is not None else self.classes)

    # ---- queue ---------------------------------------------------------------------------

    @property
    def remaining(self) -> list[str]:
        """Images still to label: the preferred order first, then by name; skipped ones come last."""
        done = set(self.labels) | set(self.skipped)
        ranked = [n for n in dict.fromkeys(self.order) if n not in done and n in self._known]
        first = set(ranked)
        rest = [n for n in self.names if n not in done and n not in first]
        return ranked + rest + [n for n in self.skipped if n not in self.labels]

    @property
    def current(self) -> str | None:
        """The image to show now; None when every image is labelled."""
        remaining = self.remaining
        return remaining[0] if remaining else None

    def path(self, name: str) -> Path:
        return self.source / name

    @property
    def progress(self) -> Progress:
        return Progress(len(self.labels), len([n for n in self.skipped if n not in self.labels]), len(self.names))

    def set_order(self, names: list[str]) -> None:
        """Show these unlabelled images first, in this order (e.g. least certain suggestion first)."""
        self.order = list(names)

    # ---- changes -------------------------------------------------------------------------

    def set_classes(self, classes: list[str]) -> None:
        """Rename or add classes; a class that still has images cannot be removed."""
        cleaned = [c.strip() for c in classes if c.strip()]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("class names must differ")
        for name in cleaned:
            if "/" in name or "\\" in name or name in {".", ".."}:
                raise ValueError(f"a class name is a folder name: {name!r} is not allowed")
        in_use = sorted(set(self.labels.values()) - set(cleaned))
        if in_use:
            raise ValueError(f"class {in_use[0]!r} still has labelled images; undo them first")
        self.classes = cleaned
        self._save()

    def assign(self, label: str | int) -> str:
        """Label the current image (by class name or 0-based index); returns the image's name."""
        name = self._current_or_raise()
        label = self.classes[label] if isinstance(label, int) else label
        if label not in self.classes:
            raise ValueError(f"unknown class {label!r}")
        target = self.out / label / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.path(name), target)
        self.labels[name] = label
        self.history.append((name, label))
        self._save()
        return name

    def skip(self) -> str:
        """Put the current image at the end of the queue without a label."""
        name = self._current_or_raise()
        if name in self.skipped:
            self.skipped.remove(name)
        self.skipped.append(name)
        self.history.append((name, SKIP))
        self._save()
        return name

    def undo(self) -> str | None:
        """Take back the last assign or skip; that image becomes the current one again."""
        if not self.history:
            return None
        name, label = self.history.pop()
        if label is SKIP:
            self.skipped.remove(name)
        else:
            del self.labels[name]
            (self.out / label / name).unlink(missing_ok=True)
        self.order = [name] + [n for n in self.order if n != name]
        self._save()
        return name

    # ---- persistence ---------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.out / STATE_FILE

    def _save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        state = {"source": str(self.source), "classes": self.classes, "labels": self.labels,
                 "skipped": self.skipped, "history": self.history}
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1), encoding="utf-8")
        temporary.replace(self.state_path)  # never a half-written file

    def _load(self) -> None:
        if not self.state_path.is_file():
            return
        state = json.loads(self.state_path.read_text(encoding="utf-8"))
        known = self._known
        self.classes = list(state.get("classes", []))
        self.labels = {n: c for n, c in state.get("labels", {}).items() if n in known}
        self.skipped = [n for n in state.get("skipped", []) if n in known]
        self.history = [(n, c) for n, c in state.get("history", []) if n in known]

    @property
    def _known(self) -> set[str]:
        return set(self.names)

    def _current_or_raise(self) -> str:
        name = self.current
        if name is None:
            raise ValueError("every image is labelled")
        return name
