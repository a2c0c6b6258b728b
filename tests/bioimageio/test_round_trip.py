"""Export built-in models as bioimage.io packages, validate them, import them back and compare."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from bioclass.errors import InvalidArgument, NotFound

SAMPLES = Path(__file__).resolve().parents[2] / "model_zoo" / "samples"
# (model, sample folder, the rdf's weights entry)
MODELS = [("wbc-cnn-onnx", "wbc", "onnx"), ("malaria-cnn-pytorch", "malaria", "torchscript"),
          ("malaria-cnn-keras", "malaria", "keras_v3")]


def validate(path: Path):
    from bioimageio.spec import load_description

    description = load_description(path, perform_io_checks=True)
    assert description.validation_summary.status in ("passed", "valid-format"), description.validation_summary
    return description


@pytest.mark.parametrize("model, samples, weights", MODELS)
def test_export_validate_import_same_probabilities(zoo_client, tmp_path, model, samples, weights):
    package = zoo_client.export_bioimageio(model, tmp_path / "package.zip")
    description = validate(package)
    assert [key for key, entry in description.weights if entry is not None] == [weights]
    assert [str(n) for n in description.outputs[0].axes[1].channel_names] == list(zoo_client.model(model).output.labels)
    with zipfile.ZipFile(package) as archive:
        assert {"rdf.yaml", "test_input.npy", "test_output.npy", "cover.png", "README.md"} <= set(archive.namelist())
    imported = zoo_client.import_bioimageio(package, f"{model}-imported")
    assert imported.id == f"{model}-imported" and imported.preprocessing == zoo_client.model(model).preprocessing
    images = sorted((SAMPLES / samples).iterdir())[:3]
    for image in images:
        original = zoo_client.predict(image, model).probabilities
        again = zoo_client.predict(image, imported.id).probabilities
        np.testing.assert_allclose(again, original, atol=1e-4)


def test_test_tensors_are_the_models_output(zoo_client, tmp_path):
    """test_output.npy holds the served model's probabilities for test_input.npy."""
    package = zoo_client.export_bioimageio("wbc-cnn-onnx", tmp_path / "wbc.zip")
    with zipfile.ZipFile(package) as archive:
        output = np.load(io.BytesIO(archive.read("test_output.npy")))
        test_input = np.load(io.BytesIO(archive.read("test_input.npy")))
    assert test_input.dtype == np.uint8 and test_input.shape[:2] == (1, 3)
    assert output.shape == (1, len(zoo_client.model("wbc-cnn-onnx").output.labels))
    image = test_input[0].transpose(1, 2, 0)  # the card is bchw; predict takes yxc
    np.testing.assert_allclose(zoo_client.predict(image, "wbc-cnn-onnx", top_k=10).probabilities, output[0],
                               atol=1e-5)


def rewrite(package: Path, out: Path, edit) -> Path:
    """A copy of the package whose rdf.yaml went through `edit(rdf)`."""
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "rdf.yaml":
                rdf = yaml.safe_load(data)
                edit(rdf)
                data = yaml.safe_dump(rdf).encode()
            target.writestr(name, data)
    return out


def test_unmappable_packages_are_refused_with_the_reason(zoo_client, tmp_path):
    package = zoo_client.export_bioimageio("wbc-cnn-onnx", tmp_path / "wbc.zip")

    def clip_input(rdf):
        rdf["inputs"][0]["preprocessing"].append({"id": "clip", "kwargs": {"min": 0.0, "max": 1.0}})

    def drop_class_names(rdf):
        rdf["outputs"][0]["axes"][1] = {"type": "index", "size": len(rdf["outputs"][0]["axes"][1]["channel_names"])}

    with pytest.raises(InvalidArgument, match="input preprocessing clip cannot be expressed"):
        zoo_client.import_bioimageio(rewrite(package, tmp_path / "clip.zip", clip_input), "clipped")
    with pytest.raises(InvalidArgument, match="output axes"):
        zoo_client.import_bioimageio(rewrite(package, tmp_path / "index.zip", drop_class_names), "unnamed")
    (tmp_path / "junk.zip").write_bytes(b"PK not really a zip")
    with pytest.raises(InvalidArgument, match="bioimage.io package"):
        zoo_client.import_bioimageio(tmp_path / "junk.zip", "junk")
    with pytest.raises(NotFound):
        zoo_client.export_bioimageio("no-such-model", tmp_path / "none.zip")
