"""Class-per-folder datasets (the ImageFolder layout): ROOT/<class>/<image>."""
from __future__ import annotations

from pathlib import Path

from bioclass.errors import InvalidArgument
from bioclass.images import is_image_file


def class_folder_samples(root: str | Path) -> list[tuple[Path, str]]:
    """(image path, class name) for every image under ROOT/<class>/, sorted for reproducibility."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidArgument(f"dataset folder {root} does not exist")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    samples = [(image, folder.name) for folder in classes for image in sorted(folder.rglob("*")) if is_image_file(image)]
    if not samples:
        raise InvalidArgument(f"dataset folder {root} has no images in class sub-folders (ROOT/<class>/<image>)")
    return samples

