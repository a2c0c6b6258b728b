"""bioimageio.core, the community's reference runtime, tests and re-writes what bioclass exports."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from core_venv import ensure_venv

ZOO = Path(__file__).resolve().parents[2] / "model_zoo"
SAMPLES = ZOO / "samples" / "malaria"
# (model, its weights format in the package)
MODELS = [("malaria-cnn-onnx", "onnx"), ("malaria-cnn-pytorch", "torchscript"), ("malaria-cnn-keras", "keras_v3")]
# Re-save a loaded package with bioimageio.spec, without bioclass's own config block.
RESAVE = """
import sys
from bioimageio.spec import load_description, save_bioimageio_package
description = load_description(sys.argv[1])
description.config.__pydantic_extra__.pop("bioclass")
save_bioimageio_package(description, output_path=sys.argv[2])
"""


@pytest.fixture(scope="session")
def bioimageio_command() -> list[str]:
    """`bioimageio` from bioimageio.core's own venv, made on first use."""
    return [str(ensure_venv())]


def run_core(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """A command of bioimageio.core's venv, with a private cache."""
    env = {**os.environ, "BIOIMAGEIO_CACHE_PATH": str(tmp_path / "cache")}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path, check=False)


def assert_bioimageio_test_passes(package: Path, weights: str, command: list[str], tmp_path: Path) -> None:
    summary_path = tmp_path / f"{package.stem}-summary.json"
    result = run_core([*command, "test", str(package), "--summary", str(summary_path)], tmp_path)
    summary = json.loads(summary_path.read_text())
    assert result.returncode == 0 and summary["status"] == "passed", result.stdout[-4000:]
    assert [(d["name"], d["status"]) for d in summary["details"]] == [
        ("Successfully created `ModelDescr` instance.", "passed"),
        ("bioimageio.spec format validation model 0.5.12", "passed"),
        (f"Reproduce test outputs from test inputs ({weights})", "passed"),
        *((f"Run {weights} inference for inputs with batch_size: {n} and size parameter n: 0", "passed")
          for n in (1, 2))]
    warned = [w["loc"] for d in summary["details"] for w in d["warnings"]]
    assert not [loc for loc in warned if "sample_tensor" in loc]  # both tensors have a sample


@pytest.mark.parametrize("model, weights", MODELS)
def test_bioimageio_test_passes_on_the_export(zoo_client, bioimageio_command, tmp_path, model, weights):
    package = zoo_client.export_bioimageio(model, tmp_path / f"{model}.zip")
    assert_bioimageio_test_passes(package, weights, bioimageio_command, tmp_path)


@pytest.mark.parametrize("model, weights", [("brightness-keras-h5", "keras_hdf5"),
                                            ("test-resnet-state-dict", "pytorch_state_dict")])
def test_bioimageio_test_passes_on_the_other_weight_formats(client, bioimageio_command, tmp_path, model, weights):
    """Keras HDF5 and a timm state_dict (the test zoo's models, tests/models.py)."""
    package = client.export_bioimageio(model, tmp_path / f"{model}.zip")
    assert_bioimageio_test_passes(package, weights, bioimageio_command, tmp_path)


@pytest.mark.parametrize("preprocessing", [
    ("{resize: stretch, color: rgb, scale: percentile, percentiles: [1.0, 99.5], mean: [0.5, 0.4, 0.45], "
     "std: [0.3, 0.25, 0.3]}"),
    "{resize: stretch, color: rgb, scale: zscore}",
    "{resize: stretch, color: rgb, scale: minmax, mean: [0.5], std: [0.25]}"])
def test_every_per_image_scaling_maps_onto_bioimageio_ops(zoo_client, bioimageio_command, tmp_path, preprocessing):
    """scale_range, zero_mean_unit_variance and fixed_zero_mean_unit_variance compute what bioclass does."""
    card = (ZOO / "malaria-cnn-onnx" / "card.yaml").read_text()
    card = re.sub(r"(?ms)^preprocessing:.*?(?=^\S)", f"preprocessing: {preprocessing}\n", card)
    model_id = f"malaria-{yaml.safe_load(preprocessing)['scale']}"
    zoo_client.register_model(card.replace("id: malaria-cnn-onnx", f"id: {model_id}"),
                              ZOO / "malaria-cnn-onnx" / "model.onnx")
    package = zoo_client.export_bioimageio(model_id, tmp_path / f"{model_id}.zip")
    assert_bioimageio_test_passes(package, "onnx", bioimageio_command, tmp_path)


def test_a_package_bioimageio_spec_saved_imports_and_predicts_the_same(zoo_client, bioimageio_command, tmp_path):
    package = zoo_client.export_bioimageio("malaria-cnn-onnx", tmp_path / "malaria.zip")
    python = str(Path(bioimageio_command[0]).with_name("python"))
    result = run_core([python, "-c", RESAVE, str(package), str(tmp_path / "resaved.zip")], tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    imported = zoo_client.import_bioimageio(tmp_path / "resaved.zip", "malaria-resaved")
    original = zoo_client.model("malaria-cnn-onnx")
    assert (imported.preprocessing, imported.output) == (original.preprocessing, original.output)
    assert (imported.input.axes, imported.input.channels, imported.input.height, imported.input.width) == (
        original.input.axes, original.input.channels, original.input.height, original.input.width)
    for image in sorted(SAMPLES.iterdir())[:3]:
        np.testing.assert_allclose(zoo_client.predict(image, "malaria-resaved").probabilities,
                                   zoo_client.predict(image, "malaria-cnn-onnx").probabilities, atol=1e-5)
