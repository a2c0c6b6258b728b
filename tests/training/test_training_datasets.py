"""Datasets: uploads with checksums, unsafe or corrupt archives, bad layouts, splits."""
from __future__ import annotations

import io
import re
import tarfile
import zipfile
from pathlib import Path

import grpc
import pytest

from bioclass.errors import DataLoss, InvalidArgument, NotFound
from bioclass.server.training.config import DatasetSpec, TrainConfig
from bioclass.server.training.datasets import assign_splits, folder_samples
from training_support import ARCH, MALARIA, TINY, copy_images


def _zip(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer


def _png() -> bytes:
    return next((MALARIA / "Uninfected").iterdir()).read_bytes()


def test_upload_stores_a_dataset_under_an_id(training, tmp_path):
    dataset = training.upload_dataset(copy_images(tmp_path / "two", 3), name="two classes")
    assert list(dataset.labels) == ["Parasitized", "Uninfected"] and dataset.images == 6
    assert re.fullmatch(r"[0-9a-f]{12}", dataset.id)
    assert dataset.id in [d.id for d in training.datasets()]


def test_checksum_mismatch_is_data_loss(training):
    archive = _zip({"a/x.png": _png(), "b/y.png": _png()})
    with pytest.raises(DataLoss) as error:
        training.upload_archive(archive, "zip", "bad checksum", sha256="0" * 64)
    assert error.value.code == grpc.StatusCode.DATA_LOSS


def test_corrupt_archive_is_invalid(training):
    with pytest.raises(InvalidArgument, match="corrupt zip archive"):
        training.upload_archive(io.BytesIO(b"PK\x03\x04 this is not a zip file at all"), "zip", "corrupt")


def test_path_traversal_is_refused(training):
    archive = _zip({"a/x.png": _png(), "../../escape.png": _png()})
    with pytest.raises(InvalidArgument, match="outside the dataset folder"):
        training.upload_archive(archive, "zip", "traversal")


def test_links_in_a_tar_are_refused(training):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        link = tarfile.TarInfo("a/passwd.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        bundle.addfile(link)
    with pytest.raises(InvalidArgument, match="link"):
        training.upload_archive(buffer, "tar", "symlink")


def test_single_class_upload_is_invalid(training, tmp_path):
    with pytest.raises(InvalidArgument, match="single class"):
        training.upload_dataset(copy_images(tmp_path / "one", 3, classes=("Uninfected",)))


def test_empty_class_folder_is_invalid(training, tmp_path):
    root = copy_images(tmp_path / "empty", 3, classes=("Uninfected",))
    (root / "Parasitized").mkdir()
    with pytest.raises(InvalidArgument, match="'Parasitized' has no images"):
        training.train(root, ARCH, on_server=True, **TINY)


def test_empty_dataset_folder_is_invalid(training, tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InvalidArgument, match="no images"):
        training.train(tmp_path / "nothing", ARCH, on_server=True, **TINY)


def test_unknown_architecture_and_dataset(training, tiny_dataset):
    with pytest.raises(NotFound, match="unknown architecture"):
        training.train(tiny_dataset, "no_such_net", on_server=True, **TINY)
    with pytest.raises(NotFound, match="unknown dataset"):
        training.train("", ARCH, dataset_id="0123456789ab", **TINY)


def test_stratified_split_is_reproducible_and_keeps_every_class_in_training(tmp_path):
    root = copy_images(tmp_path / "split", 20)
    samples = folder_samples(root)
    config = TrainConfig(arch=ARCH, seed=7)
    first = assign_splits(root, samples, DatasetSpec(server_dir=str(root)), config)
    assert first == assign_splits(root, samples, DatasetSpec(server_dir=str(root)), config)
    for label in ("Parasitized", "Uninfected"):
        counts = {split: sum(1 for s, sp in zip(samples, first) if s.label == label and sp == split)
                  for split in ("train", "val", "test")}
        assert counts == {"train": 14, "val": 3, "test": 3}


def test_group_split_keeps_each_patient_in_one_split():
    pattern = r"(P\d+|C\d+)(?:[^\dP]|$)"  # the patient (P61), else the slide (C12N, C1_thinF); RE2 has no lookahead
    spec = DatasetSpec(server_dir=str(MALARIA), group_pattern=pattern)
    samples = folder_samples(MALARIA)
    splits = assign_splits(MALARIA, samples, spec, TrainConfig(arch=ARCH))
    patient_splits: dict[str, set] = {}
    for sample, split in zip(samples, splits):
        patient = re.search(pattern, Path(sample.path).name).group(1)
        patient_splits.setdefault(patient, set()).add(split)
    assert all(len(s) == 1 for s in patient_splits.values())
    assert {"train", "val", "test"} == set(splits)


def test_a_compression_bomb_stops_at_the_size_limit(tmp_path):
    from bioclass.server.training import archives

    (tmp_path / "bomb.zip").write_bytes(_zip({"a/zeros.png": bytes(4_000_000)}).getvalue())
    (tmp_path / "out").mkdir()
    with pytest.raises(InvalidArgument, match="too large once extracted"):
        archives.extract(tmp_path / "bomb.zip", "zip", tmp_path / "out", max_bytes=1_000_000)


def test_labels_csv_and_splits_csv_are_used(tmp_path):
    from bioclass.server.training.datasets import resolve_samples

    root = copy_images(tmp_path / "flat", 4)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    (root / "labels.csv").write_text("file,label\n" + "".join(f"{f},{'sick' if 'Para' in f else 'healthy'}\n"
                                                              for f in files))
    (root / "splits.csv").write_text("".join(f"{f},{'test' if i % 4 == 0 else 'train'}\n" for i, f in enumerate(files)))
    spec = DatasetSpec(server_dir=str(root), labels_csv="labels.csv", splits_csv="splits.csv")
    samples, _ = resolve_samples(root, spec)
    assert {s.label for s in samples} == {"sick", "healthy"}
    splits = assign_splits(root, samples, spec, TrainConfig(arch=ARCH))
    assert splits.count("test") == 2 and splits.count("train") == 6
    with pytest.raises(InvalidArgument, match="inside the dataset"):
        resolve_samples(root, DatasetSpec(server_dir=str(root), labels_csv="../labels.csv"))
