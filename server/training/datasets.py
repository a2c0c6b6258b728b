"""Training datasets: uploaded archives stored under an id, folders on the server, and splits.

Everything here is plain Python (no torch): the server uses it to refuse a bad dataset at once,
the job process to list and split the images.
"""
from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from bioclass.errors import DataLoss, InvalidArgument, NotFound
from bioclass.images import is_image_file
from bioclass.server import uploads
from bioclass.server.data_roots import server_folder
from bioclass.server.training import archives
from bioclass.server.training.config import DatasetSpec, TrainConfig, group_pattern

SPLITS = ("train", "val", "test")


@dataclass
class DatasetInfo:
    id: str
    name: str
    labels: list[str]
    images: int
    size_bytes: int
    created: float
    sha256: str


@dataclass
class Sample:
    path: str  # relative to the dataset root, POSIX separators
    label: str


class DatasetStore:
    """Uploaded datasets in work_dir/datasets/<id>/ (data/ and info.json), written atomically."""

    def __init__(self, folder: Path, max_upload_bytes: int, max_extracted_bytes: int):
        self.folder = folder
        self.max_upload_bytes = max_upload_bytes
        self.max_extracted_bytes = max_extracted_bytes
        folder.mkdir(parents=True, exist_ok=True)

    def remove_interrupted(self) -> None:
        """At server start: the staging folders of uploads a crash interrupted (a dataset is whole or absent)."""
        for staging in self.folder.glob(".upload-*"):
            archives.remove(staging)

    async def upload(self, name: str, fmt: str, sha256: str, chunks: AsyncIterator[bytes]) -> DatasetInfo:
        if fmt not in ("zip", "tar"):
            raise InvalidArgument(f"dataset format must be zip or tar, not {fmt!r}")
        staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=self.folder))
        try:
            archive = staging / f"archive.{fmt}"
            digest = await self._receive(archive, chunks)
            if sha256 and sha256.lower() != digest:
                raise DataLoss(f"checksum mismatch: received archive has sha256 {digest}, header says {sha256}")
            return await asyncio.to_thread(self._unpack, staging, archive, fmt, name, digest)  # off the event loop
        finally:
            archives.remove(staging)

    async def _receive(self, archive: Path, chunks: AsyncIterator[bytes]) -> str:
        with open(archive, "wb") as out:
            digest, _ = await uploads.receive(chunks, out, self.max_upload_bytes, asyncio.to_thread,
                                              setting="max_upload_bytes")
            out.flush()
            os.fsync(out.fileno())
        return digest.hexdigest()

    def _unpack(self, staging: Path, archive: Path, fmt: str, name: str, digest: str) -> DatasetInfo:
        (staging / "data").mkdir()
        archives.extract(archive, fmt, staging / "data", self.max_extracted_bytes)
        archive.unlink()
        return self._install(staging, name, digest)

    def _install(self, staging: Path, name: str, digest: str) -> DatasetInfo:
        root = archives.dataset_root(staging / "data")
        samples = folder_samples(root)
        check_labels(samples, f"uploaded dataset {name or digest[:12]}")
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        info = DatasetInfo(id=uuid.uuid4().hex[:12], name=name, labels=sorted({s.label for s in samples}),
                           images=len(samples), size_bytes=size, created=time.time(), sha256=digest)
        (staging / "root").write_text(str(root.relative_to(staging)), encoding="utf-8")
        (staging / "info.json").write_text(json.dumps(asdict(info)), encoding="utf-8")
        os.replace(staging, self.folder / info.id)
        return info

    def all(self) -> list[DatasetInfo]:
        found = []
        for info_file in sorted(self.folder.glob("*/info.json")):
            found.append(DatasetInfo(**json.loads(info_file.read_text(encoding="utf-8"))))
        return sorted(found, key=lambda d: d.created, reverse=True)

    def root(self, dataset_id: str) -> Path:
        folder = self.folder / dataset_id
        if not re.fullmatch(r"[0-9a-f]{12}", dataset_id) or not (folder / "info.json").is_file():
            raise NotFound(f"unknown dataset {dataset_id!r}")
        return folder / (folder / "root").read_text(encoding="utf-8").strip()


def server_root(server_dir: str, data_roots: list[Path]) -> Path:
    return server_folder(server_dir, data_roots, "dataset server_dir")


# ---- listing and validation ------------------------------------------------------------

def folder_samples(root: Path, exclude: str = "") -> list[Sample]:
    """Every image of ROOT/<class>/...; an empty class folder is an error."""
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__MACOSX"))
                     and p.name != exclude)
    samples = []
    for folder in classes:
        found = [Sample(p.relative_to(root).as_posix(), folder.name) for p in sorted(folder.rglob("*"))
                 if is_image_file(p)]
        if not found:
            raise InvalidArgument(f"class folder {folder.name!r} has no images")
        samples.extend(found)
    return samples


def csv_samples(root: Path, labels_csv: str) -> list[Sample]:
    """Samples from "file,label" rows (a header row is allowed)."""
    rows = _read_csv(root, labels_csv)
    samples = [Sample(_relative(row[0], labels_csv), row[1].strip()) for row in rows
               if len(row) >= 2 and row[0].strip() and row[0].strip().lower() not in ("file", "filename", "path")]
    missing = [number for number, s in enumerate(samples, 1) if not (root / s.path).is_file()]
    if missing:  # by number, never by name: the rows of a file that is not a labels CSV may hold secrets
        raise InvalidArgument(f"{labels_csv} names {len(missing)} files the dataset does not hold "
                              f"(the first in its sample row {missing[0]})")
    return samples


def resolve_samples(root: Path, spec: DatasetSpec) -> tuple[list[Sample], list[str]]:
    """Labelled samples and unlabelled image paths, validated."""
    exclude = PurePosixPath(spec.unlabelled_dir).parts[0] if spec.unlabelled_dir else ""
    samples = csv_samples(root, spec.labels_csv) if spec.labels_csv else folder_samples(root, exclude)
    check_labels(samples, str(spec.dataset_id or spec.server_dir))
    unlabelled = []
    if spec.unlabelled_dir:
        folder = root / _relative(spec.unlabelled_dir, "unlabelled_dir")
        if not folder.is_dir():
            raise InvalidArgument(f"unlabelled folder {spec.unlabelled_dir} does not exist in the dataset")
        unlabelled = [p.relative_to(root).as_posix() for p in sorted(folder.rglob("*")) if is_image_file(p)]
    return samples, unlabelled


def check_dataset(root: Path, spec: DatasetSpec, config: TrainConfig) -> None:
    """Refuse a dataset that cannot train: its layout, classes and splits (walks every file: call off the event loop)."""
    samples, _ = resolve_samples(root, spec)
    assign_splits(root, samples, spec, config)


def check_labels(samples: list[Sample], what: str) -> None:
    if not samples:
        raise InvalidArgument(f"dataset {what} has no images (expected ROOT/<class>/<image>)")
    labels = Counter(s.label for s in samples)
    if len(labels) < 2:
        raise InvalidArgument(f"dataset {what} has a single class ({next(iter(labels))}); "
                              "a classifier needs at least two")


# ---- splits ------------------------------------------------------------------------------

def assign_splits(root: Path, samples: list[Sample], spec: DatasetSpec, config: TrainConfig) -> list[str]:
    """One of train/val/test per sample: from the splits CSV, by group, or stratified by class."""
    if spec.splits_csv:
        given = {_relative(r[0], spec.splits_csv): r[1].strip().lower() for r in _read_csv(root, spec.splits_csv)
                 if len(r) >= 2 and r[1].strip().lower() in SPLITS}
        splits = [given.get(s.path, "train") for s in samples]
    elif spec.group_pattern:
        splits = _group_split(samples, group_pattern(spec.group_pattern), config)
    else:
        splits = _stratified_split(samples, config)
    missing = set(s.label for s in samples) - {s.label for s, split in zip(samples, splits) if split == "train"}
    if missing:
        raise InvalidArgument(f"the training split has no image of {', '.join(sorted(missing))}")
    return splits


def _stratified_split(samples: list[Sample], config: TrainConfig) -> list[str]:
    rng = random.Random(config.seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, sample in enumerate(samples):
        by_label[sample.label].append(i)
    splits = ["train"] * len(samples)
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        n_test = min(round(len(indices) * config.test_fraction), len(indices) - 1)
        n_val = min(round(len(indices) * config.val_fraction), len(indices) - 1 - n_test)
        for i in indices[:n_test]:
            splits[i] = "test"
        for i in indices[n_test:n_test + n_val]:
            splits[i] = "val"
    return splits


def _group_split(samples: list[Sample], pattern, config: TrainConfig) -> list[str]:
    """Whole groups (e.g. patients) go to one split, so no group leaks into the held-out data."""
    groups = sample_groups(samples, pattern)
    members: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        members[group].append(i)
    order = sorted(members)
    random.Random(config.seed).shuffle(order)
    targets = {"test": config.test_fraction * len(samples), "val": config.val_fraction * len(samples)}
    splits, filled = ["train"] * len(samples), {"test": 0, "val": 0}
    for group in order:
        split = next((name for name in ("test", "val") if filled[name] < targets[name]), "train")
        for i in members[group]:
            splits[i] = split
        if split != "train":
            filled[split] += len(members[group])
    return splits


def sample_groups(samples: list[Sample], pattern) -> list[str]:
    """Each sample's group (e.g. its patient), from the pattern's group in its file name."""
    return [_group_of(pattern, s.path) for s in samples]


def _group_of(pattern, path: str) -> str:
    """The pattern's group in the file name; a file it does not match (or whose group is empty) is its own group."""
    match = pattern.search(PurePosixPath(path).name)
    return (match.group(1) if match else None) or path


def split_counts(samples: list[Sample], splits: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(f"{split}/{s.label}" for s, split in zip(samples, splits)).items()))


def _read_csv(root: Path, name: str) -> list[list[str]]:
    path = root / _relative(name, "csv")
    if not path.is_file():
        raise InvalidArgument(f"{name} does not exist in the dataset")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [row for row in csv.reader(handle) if row]
    except (UnicodeDecodeError, csv.Error):
        raise InvalidArgument(f"{name} is not a UTF-8 CSV file") from None


def _relative(name: str, what: str) -> str:
    path = PurePosixPath(name.strip().replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or "\0" in name:
        raise InvalidArgument(f"{what}: {name!r} must be a path inside the dataset")
    return path.as_posix()
