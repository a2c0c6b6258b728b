"""Data roots: server paths a client names are read only under --data-root; refusals never echo what
lies outside; bioimage.io packages name only their own files unless --allow-downloads."""
import zipfile

import pytest
import yaml
from PIL import Image

from bioclass.client import Client
from bioclass.errors import InvalidArgument, PermissionDenied
from models import solid_image
from server_process import ServerProcess

NO_ROOTS = ("{what}: this server reads no folders of its own; its operator can allow some with --data-root DIR "
            "(or upload the dataset instead)")


def class_folders(root, per_class: int = 2):
    for label, value in (("bright", 0.9), ("dark", 0.1)):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(solid_image(value)).save(root / label / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A data root holding a dataset, and a dataset and a secret outside it."""
    base = tmp_path_factory.mktemp("places")
    inside = class_folders(base / "root" / "cells")
    outside = class_folders(base / "elsewhere" / "cells")
    secret = base / "root" / "cells" / "notes.csv"
    secret.write_text("TOPSECRET-42,bright\n")
    secret.chmod(0o600)
    (base / "root" / "escape").symlink_to(outside)
    return base, inside, outside


@pytest.fixture(scope="module")
def rooted(test_zoo, places, tmp_path_factory):
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--data-root", str(places[0] / "root"),
                            work_dir=tmp_path_factory.mktemp("rooted"))
    yield process
    process.stop()


def test_without_a_data_root_no_server_path_is_read(test_zoo, places, tmp_path):
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            with pytest.raises(PermissionDenied) as evaluate:
                client.evaluate(places[1], ["brightness-onnx"], on_server=True)
            assert evaluate.value.message == NO_ROOTS.format(what="dataset_dir")
            with pytest.raises(PermissionDenied) as train:
                client.training.train(places[1], "resnet18", on_server=True, epochs=1)
            assert train.value.message == NO_ROOTS.format(what="dataset server_dir")
            with pytest.raises(PermissionDenied) as automl:
                client.automl.start(places[1], 1.0, on_server=True)
            assert automl.value.message == NO_ROOTS.format(what="dataset server_dir")
    finally:
        server.stop()


def test_under_a_root_only_that_root_is_read(rooted, places):
    base, inside, outside = places
    refusal = f"dataset_dir: the server reads only absolute paths under its data roots ({base / 'root'})"
    with Client(rooted.address) as client:
        report = client.evaluate(inside, ["brightness-onnx"], on_server=True)
        assert report.evaluations[0].accuracy == 1.0
        for path in (outside, base / "root" / "escape", "/etc", "root/cells", base / "root" / ".." / "elsewhere"):
            with pytest.raises(PermissionDenied) as refused:
                client.evaluate(path, ["brightness-onnx"], on_server=True)
            assert refused.value.message == refusal
        with pytest.raises(InvalidArgument) as missing:
            client.evaluate(base / "root" / "absent", ["brightness-onnx"], on_server=True)
        assert missing.value.message == f"dataset_dir: {base / 'root' / 'absent'} is not a folder on the server"
        # Echoed in the message, these would pass gRPC's header limits (the accented one always: 18 KB
        # percent-encoded) and reach the client as "metadata size exceeds soft limit".
        for name in ("n" * 10_000, "é" * 3_000):
            with pytest.raises(InvalidArgument, match="is not a folder on the server$"):
                client.evaluate(base / "root" / name, ["brightness-onnx"], on_server=True)


def test_a_labels_csv_never_echoes_its_rows(rooted, places):
    with Client(rooted.address) as client:
        with pytest.raises(InvalidArgument) as refused:
            client.training.train(places[1], "resnet18", on_server=True, labels_csv="notes.csv", epochs=1)
    assert refused.value.message == "notes.csv names 1 files the dataset does not hold (the first in its sample row 1)"
    assert "TOPSECRET" not in refused.value.message


def rewritten(package, out, edit):
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            rdf = yaml.safe_load(source.read(name)) if name == "rdf.yaml" else None
            target.writestr(name, yaml.safe_dump(edit(rdf) or rdf) if rdf is not None else source.read(name))
    return out


@pytest.mark.parametrize("source, message", [
    ("/etc/passwd", "the package names a file outside itself; a package may only name its own files"),
    ("../../models/m/model.onnx", "the package names a file outside itself; a package may only name its own files"),
    ("file:///etc/passwd", "the package names a file outside itself; a package may only name its own files"),
    ("https://example.org/model.onnx", "the package names a file by URL; this server fetches nothing (its operator "
                                       "can allow it with --allow-downloads): put the file in the package"),
])
def test_bioimageio_import_reads_only_the_packages_files(rooted, tmp_path, source, message):
    with Client(rooted.address) as client:
        package = client.export_bioimageio("brightness-onnx", tmp_path / "package.zip")

        def point_weights(rdf):
            rdf["weights"]["onnx"]["source"] = source

        with pytest.raises(InvalidArgument) as refused:
            client.import_bioimageio(rewritten(package, tmp_path / "edited.zip", point_weights), "imported")
        assert refused.value.message == message
        assert "imported" not in {m.id for m in client.models()}
