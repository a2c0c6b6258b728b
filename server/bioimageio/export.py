"""A bioclass model as a bioimage.io package: rdf.yaml, weights, test tensors computed by the real
model through its runner, sample tensors, a cover and a README; zipped and validated with bioimageio.spec.
"""
from __future__ import annotations

import importlib.metadata
import io
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image as PILImage

from bioclass.errors import FailedPrecondition
from bioclass.server.bioimageio import processing
from bioclass.server.cards import ModelCard
from bioclass.server.preprocess import normalise, scale
from bioclass.server.runner import ModelRunner

INPUT_ID, OUTPUT_ID = "input", "probabilities"
CHANNEL_NAMES = {1: ["gray"], 3: ["red", "green", "blue"]}
WEIGHT_ENTRIES = {"torchscript": "torchscript", "onnx": "onnx", "h5": "keras_hdf5", "keras": "keras_v3",
                  "state_dict": "pytorch_state_dict"}
ACCEPTED = ("passed", "valid-format")


async def export_package(runner: ModelRunner, run_cpu) -> tuple[bytes, str]:
    """The zipped package and its file name; `run_cpu(function, *args)` runs blocking work off the loop."""
    card = runner.card
    check_exportable(card)
    raw = test_input(card)
    probabilities, _ = await runner.infer(network_input(raw, card), method="ExportBioimageio")
    data, _ = await run_cpu(write_package, runner.folder, card, raw, probabilities.astype(np.float32))
    return data, f"{card.id}.bioimageio.zip"


def check_exportable(card: ModelCard) -> None:
    if card.weight_format not in WEIGHT_ENTRIES:
        raise FailedPrecondition(f"model {card.id}: {card.weight_format} weights have no bioimage.io export here "
                                 f"(exportable: {', '.join(WEIGHT_ENTRIES)})")
    if card.tiling is not None or card.input.pages:
        # A package describes one whole-image input: other tools would answer differently.
        raise FailedPrecondition(f"model {card.id} {'tiles its images' if card.tiling else 'reads pages as channels'}; "
                                 "a bioimage.io package cannot describe that")


def test_input(card: ModelCard) -> np.ndarray:
    """A deterministic test image at the network's size, with a batch axis, in the card's layout."""
    height, width = card.input.size
    rows, columns = np.mgrid[0:height, 0:width]
    noise = np.random.default_rng(0).uniform(0, 60, (height, width, card.input.channels))
    ramps = [rows / height, columns / width, (rows + columns) / (height + width)][:card.input.channels]
    pixels = np.clip(np.stack(ramps, axis=2) * 190 + noise, 0, 255).round().astype(np.uint8)
    pixels = pixels.astype(processing.input_dtype(card))
    return np.ascontiguousarray((pixels.transpose(2, 0, 1) if card.input.axes == "bchw" else pixels)[None])


def network_input(raw: np.ndarray, card: ModelCard) -> np.ndarray:
    """What the package's preprocessing makes of the test input: the card's scaling and mean/std."""
    pixels = raw[0].transpose(1, 2, 0) if card.input.axes == "bchw" else raw[0]
    pixels = normalise(scale(pixels.astype(np.float32), raw.dtype, card), card)
    return np.ascontiguousarray((pixels.transpose(2, 0, 1) if card.input.axes == "bchw" else pixels)[None],
                                dtype=np.float32)


def write_package(folder: Path, card: ModelCard, raw: np.ndarray, output: np.ndarray) -> bytes:
    weights = folder / card.weights
    files = {
        "test_input.npy": _npy(raw), "test_output.npy": _npy(output), "cover.png": cover(raw, card),
        "sample_input.tif": _tiff(raw), "sample_output.tif": _tiff(output),
        "README.md": readme(card).encode("utf-8"), Path(card.weights).name: weights.read_bytes(),
    }
    files["rdf.yaml"] = yaml.safe_dump(rdf(card, weights), sort_keys=False, allow_unicode=True).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    validate(buffer.getvalue(), card.id)
    return buffer.getvalue()


def validate(package: bytes, model_id: str) -> None:
    """Refuse to hand out a package bioimageio.spec does not accept (that would be a bug here)."""
    from bioimageio.spec import load_description

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "package.zip"
        path.write_bytes(package)
        description = load_description(path, perform_io_checks=True)
        summary = description.validation_summary
        if summary.status not in ACCEPTED:
            errors = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for d in summary.details for e in d.errors)
            raise FailedPrecondition(f"the bioimage.io package of {model_id} does not validate: {errors[:800]}")


def rdf(card: ModelCard, weights: Path) -> dict:
    from bioimageio.spec.model.v0_5 import ModelDescr

    prov = card.provenance
    return {
        "type": "model", "format_version": ModelDescr.implemented_format_version,
        "name": display_name(card), "description": card.description or f"{card.name or card.id} (bioclass)",
        "authors": [{"name": a} for a in prov.authors] or [{"name": "bioclass"}],
        "cite": [{"text": prov.citation or "bioclass model zoo", "url": _url(prov.citation)}],
        "license": spdx_license(prov.license),
        "tags": sorted({*card.tags, "classification", "bioclass"} - {"builtin"}),
        "documentation": {"source": "README.md"}, "covers": [{"source": "cover.png"}],
        "inputs": [input_tensor(card)], "outputs": [output_tensor(card)],
        "weights": {WEIGHT_ENTRIES[card.weight_format]: weights_entry(card, weights)},
        # What bioimage.io cannot say (resize mode, colour conversion), for a lossless import back.
        "config": {"bioclass": {"card": card.model_dump(mode="json", exclude={"weights", "format"})}},
    }


def input_tensor(card: ModelCard) -> dict:
    return {"id": INPUT_ID, "axes": input_axes(card), "data": {"type": processing.input_dtype(card)},
            "test_tensor": {"source": "test_input.npy"}, "sample_tensor": {"source": "sample_input.tif"},
            "preprocessing": processing.preprocessing_ops(card)}


def output_tensor(card: ModelCard) -> dict:
    """Batch and one channel per class, named by the labels: how bioimage.io describes a classifier."""
    return {"id": OUTPUT_ID, "axes": [{"type": "batch"}, {"type": "channel", "channel_names": list(card.labels)}],
            "data": {"type": "float32"}, "test_tensor": {"source": "test_output.npy"},
            "sample_tensor": {"source": "sample_output.tif"},
            "postprocessing": processing.postprocessing_ops(card)}


def input_axes(card: ModelCard) -> list[dict]:
    height, width = card.input.size
    channel = {"type": "channel", "channel_names": CHANNEL_NAMES[card.input.channels]}
    spatial = [{"type": "space", "id": "y", "size": height}, {"type": "space", "id": "x", "size": width}]
    return [{"type": "batch"}, *([channel, *spatial] if card.input.axes == "bchw" else [*spatial, channel])]


def weights_entry(card: ModelCard, weights: Path) -> dict:
    entry: dict = {"source": weights.name}
    fmt = card.weight_format
    if fmt in ("torchscript", "state_dict"):
        entry["pytorch_version"] = _version("torch")
    if fmt == "state_dict":
        entry["architecture"] = _architecture(card)
    elif fmt == "onnx":
        entry["opset_version"] = _onnx_opset(weights)
    elif fmt == "h5":
        entry["tensorflow_version"] = _version("tensorflow-cpu", "tensorflow")
    elif fmt == "keras":
        entry["keras_version"] = _version("keras")
        entry["backend"] = ["tensorflow", _version("tensorflow-cpu", "tensorflow")]
    return entry


def _architecture(card: ModelCard) -> dict:
    library, name = card.architecture.split(":", 1)
    if library == "timm":
        return {"callable": "create_model", "import_from": "timm",
                "kwargs": {"model_name": name, "pretrained": False, "num_classes": len(card.labels),
                           "in_chans": card.input.channels}}
    return {"callable": name, "import_from": "torchvision.models", "kwargs": {"num_classes": len(card.labels)}}


def _onnx_opset(weights: Path) -> int:
    import onnx

    model = onnx.load(str(weights), load_external_data=False)
    return max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _url(citation: str) -> str:
    """The first web address in the citation; bioimage.io's own when there is none (a cite needs one)."""
    found = re.search(r"https?://[^\s,;)]+", citation)
    return found.group(0) if found else "https://bioimage.io"


def _version(*packages: str) -> str:
    for package in packages:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "0.0.0"


def display_name(card: ModelCard) -> str:
    """bioimage.io names: 5-128 letters, digits, spaces and _+-()."""
    name = re.sub(r"[^A-Za-z0-9_+\- ()]", " ", card.name or card.id)
    name = " ".join(name.split())[:64]
    return name if len(name) >= 5 else f"{name} classifier"


def spdx_license(text: str) -> str:
    """The SPDX id the card's license text starts with; CC-BY-4.0 (the zoo's default) when none."""
    from bioimageio.spec.utils import get_spdx_licenses

    known = {entry["licenseId"] for entry in get_spdx_licenses()["licenses"]}
    first = text.split()[0].strip(",;") if text.split() else ""
    return first if first in known else "CC-BY-4.0"


def cover(raw: np.ndarray, card: ModelCard) -> bytes:
    """The test image, 8-bit, centred on a 2:1 canvas (the aspect ratio bioimage.io recommends)."""
    pixels = raw[0].transpose(1, 2, 0) if card.input.axes == "bchw" else raw[0]
    pixels = pixels.astype(np.float32)
    span = float(pixels.max() - pixels.min()) or 1.0
    image = ((pixels - pixels.min()) / span * 255).astype(np.uint8)
    image = PILImage.fromarray(image[..., 0] if image.shape[2] == 1 else image).convert("RGB").resize((256, 256))
    canvas = PILImage.new("RGB", (512, 256))
    canvas.paste(image, (128, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def readme(card: ModelCard) -> str:
    pre = card.preprocessing
    return (f"# {card.name or card.id}\n\n{card.description}\n\n"
            f"Exported from bioclass (model id `{card.id}`, {card.framework}, {card.weight_format} weights).\n\n"
            f"## Classes\n\n" + "".join(f"- {label}\n" for label in card.labels) +
            f"\n## Input\n\n{card.input.channels}-channel image, {card.input.size[0]}x{card.input.size[1]} "
            f"pixels ({card.input.axes}); bioclass resizes any image by `{pre.resize}` and scales it by "
            f"`{pre.scale}` first.\n\n"
            "## Validation\n\n"
            "`test_input.npy` and `test_output.npy` were computed by the served model when exporting "
            "(`bioimageio test` reproduces them); "
            f"the output is the probability of each class ({card.output.activation}). "
            + (f"Reported metrics: {dict(card.provenance.metrics)}.\n" if card.provenance.metrics else
               "Validate on held-out labelled images, e.g. with `bioclass evaluate`.\n"))


def _tiff(array: np.ndarray) -> bytes:
    """A sample tensor: the test tensor in its axes order, as a TIFF (bioimage.io reads samples with imageio)."""
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
