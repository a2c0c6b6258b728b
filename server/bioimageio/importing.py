"""A bioimage.io model package (zip, spec 0.5) as a bioclass card and weights file.

Classification models only: one input with batch, channel and y/x axes; one output with batch
and channel axes whose channel names are the class names. Whatever cannot be mapped onto a card
is refused with INVALID_ARGUMENT and the reason. No code is loaded from a package: a
pytorch_state_dict needs a timm or torchvision architecture.
"""
from __future__ import annotations

import hashlib
import io
import re
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import yaml

from bioclass.errors import DataLoss, InvalidArgument
from bioclass.server.bioimageio import processing
from bioclass.server.cards import parse_card

MAX_RDF_BYTES = 1024 * 1024

# Weight formats in the order they are preferred, and the card's framework and format for each.
WEIGHTS = {"torchscript": ("pytorch", "torchscript"), "onnx": ("onnx", "onnx"), "keras_v3": ("keras", "keras"),
           "keras_hdf5": ("keras", "h5"), "pytorch_state_dict": ("pytorch", "state_dict")}


def read_package(package: bytes, model_id: str = "", sha256: str = "",
                 allow_downloads: bool = False) -> tuple[str, bytes]:
    """The card YAML and the weights bytes of a zipped package."""
    from bioimageio.spec.utils import get_reader

    if sha256 and hashlib.sha256(package).hexdigest() != sha256.lower():
        raise DataLoss("the package's SHA-256 does not match the header's: the upload was corrupted")
    check_sources(package, allow_downloads)
    with tempfile.TemporaryDirectory() as tmp:  # the description reads from the zip until we are done
        path = Path(tmp) / "package.zip"
        path.write_bytes(package)
        description = load(path)
        name, key, entry = pick_weights(description)
        card = card_data(description, model_id, key, name, entry)
        weights = get_reader(entry.source).read()
    card_yaml = yaml.safe_dump(card, sort_keys=False, allow_unicode=True)
    parse_card(card_yaml, "imported bioimage.io package")  # the mapped card must be a valid card
    return card_yaml, weights


# Fields of an rdf (spec 0.4 and 0.5) that name files bioimageio.spec opens: a path or a URL.
FILE_FIELDS = {"source", "documentation", "covers", "files", "test_inputs", "test_outputs", "sample_inputs",
               "sample_outputs", "dependencies", "architecture"}
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(//|[^/\\])")  # a scheme, not a Windows drive letter


def check_sources(package: bytes, allow_downloads: bool) -> None:
    """Every file the package's rdf names is one of its own files, or (with --allow-downloads) a URL:
    never a path elsewhere on the server."""
    rdf = _rdf(package)
    for value in _file_references(rdf, set()):
        if "\0" in value or PurePosixPath(value).is_absolute() or ".." in PurePosixPath(value).parts \
                or value.startswith(("~", "\\")) or re.match(r"^[a-zA-Z]:[\\/]", value) \
                or value.lower().startswith("file:"):
            raise InvalidArgument("the package names a file outside itself; a package may only name its own files")
        if _URL.match(value) and not allow_downloads:
            raise InvalidArgument("the package names a file by URL; this server fetches nothing (its operator can "
                                  "allow it with --allow-downloads): put the file in the package")


def _rdf(package: bytes) -> dict:
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as bundle:
            names = [n for n in bundle.namelist() if n == "rdf.yaml" or n.endswith(".bioimageio.yaml")]
            if len(names) != 1:
                raise InvalidArgument("not a bioimage.io package: the zip needs exactly one rdf.yaml "
                                      "(or *.bioimageio.yaml) at its top")
            if bundle.getinfo(names[0]).file_size > MAX_RDF_BYTES:
                raise InvalidArgument(f"the package's {names[0]} is larger than {MAX_RDF_BYTES} bytes")
            rdf = yaml.safe_load(bundle.read(names[0]))
    except (zipfile.BadZipFile, yaml.YAMLError, UnicodeDecodeError, EOFError) as exc:
        raise InvalidArgument(f"not a bioimage.io package: {type(exc).__name__}") from None
    if not isinstance(rdf, dict):
        raise InvalidArgument("not a bioimage.io package: its rdf is not a YAML mapping")
    return rdf


def _file_references(node, seen: set[int], under_file_field: bool = False):
    """Strings under FILE_FIELDS, each node visited once (YAML aliases could make the tree exponential)."""
    if id(node) in seen:
        return
    if isinstance(node, str):
        if under_file_field:
            yield node
        return
    seen.add(id(node))
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _file_references(value, seen, under_file_field or key in FILE_FIELDS)
    elif isinstance(node, list):
        for value in node:
            yield from _file_references(value, seen, under_file_field)


def load(path: Path):
    """The validated model description (older formats converted to the latest 0.5)."""
    from bioimageio.spec import InvalidDescr, load_description
    from bioimageio.spec.model.v0_5 import ModelDescr

    try:
        description = load_description(path, format_version="latest", perform_io_checks=True)
    except Exception as exc:  # noqa: BLE001 - a broken zip or rdf is the caller's problem
        raise InvalidArgument(f"not a bioimage.io package: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if isinstance(description, InvalidDescr):
        errors = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}"
                           for d in description.validation_summary.details for e in d.errors)
        raise InvalidArgument(f"the package does not validate with bioimageio.spec: {errors[:600]}")
    if not isinstance(description, ModelDescr):
        raise InvalidArgument(f"the package describes a {description.type}, not a model (spec 0.5)")
    return description


def pick_weights(description) -> tuple[str, str, object]:
    """(file name, weights format key, entry) of the preferred weights bioclass can serve."""
    from bioimageio.spec.utils import extract_file_name

    present = [key for key, entry in description.weights if entry is not None]
    for key in WEIGHTS:
        entry = getattr(description.weights, key, None)
        if entry is None:
            continue
        if key == "onnx" and entry.external_data is not None:
            raise InvalidArgument("ONNX weights with external data cannot be imported; export them as one file")
        return str(extract_file_name(entry.source)), key, entry
    raise InvalidArgument(f"no weights bioclass can serve: the package has {', '.join(present)}; "
                          f"supported: {', '.join(WEIGHTS)}")


def card_data(description, model_id: str, key: str, weights_name: str, entry) -> dict:
    framework, fmt = WEIGHTS[key]
    stored = (description.config.model_extra or {}).get("bioclass", {}) or {}
    stored_card = stored.get("card", {}) if isinstance(stored, dict) else {}
    inputs, outputs = _single(description.inputs, "input"), _single(description.outputs, "output")
    layout = input_layout(inputs, description)
    dtype = str(getattr(inputs.data, "type", "float32"))
    preprocessing = {"resize": stored_card.get("preprocessing", {}).get("resize", "stretch"),
                     "color": "gray" if layout["channels"] == 1 else "rgb",
                     **processing.card_preprocessing(list(inputs.preprocessing), dtype, layout["channels"])}
    card = {"id": model_id or default_id(description), "name": str(description.name),
            "description": str(description.description), "framework": framework, "weights": weights_name,
            "format": fmt, "tags": sorted({*map(str, description.tags), "bioimageio"}), "input": layout,
            "preprocessing": preprocessing,
            "output": {"labels": class_names(outputs),
                       "activation": processing.card_activation(
                           [op for op in outputs.postprocessing if op.id != "ensure_dtype"])},
            "provenance": provenance(description)}
    if key == "pytorch_state_dict":
        card["architecture"] = architecture(entry.architecture)
    return card


def _single(tensors, kind: str):
    if len(tensors) != 1:
        raise InvalidArgument(f"a classifier has one {kind} tensor; the package has {len(tensors)}")
    return tensors[0]


def input_layout(tensor, description) -> dict:
    """The card's `input`: axes order, channel count and the network's fixed y/x size."""
    kinds = [axis.type if axis.type != "space" else str(axis.id) for axis in tensor.axes]
    layouts = {("batch", "channel", "y", "x"): "bchw", ("batch", "y", "x", "channel"): "bhwc"}
    if tuple(kinds) not in layouts:
        raise InvalidArgument(f"input axes {kinds}: a classifier input must be batch, channel, y, x "
                              "(or batch, y, x, channel)")
    shape = description.get_input_test_arrays()[0].shape
    sizes = {kind: (axis.size if isinstance(axis.size, int) else shape[i])
             for i, (kind, axis) in enumerate(zip(kinds, tensor.axes)) if kind in ("y", "x")}
    channels = next(axis.size for axis in tensor.axes if axis.type == "channel")
    if channels not in (1, 3):
        raise InvalidArgument(f"the input has {channels} channels; bioclass serves 1- or 3-channel images")
    return {"axes": layouts[tuple(kinds)], "channels": channels, "size": [int(sizes["y"]), int(sizes["x"])]}


def class_names(tensor) -> list[str]:
    kinds = [axis.type for axis in tensor.axes]
    if kinds != ["batch", "channel"]:
        raise InvalidArgument(f"output axes {kinds}: a classifier output must be batch, channel "
                              "(one channel per class, named by its channel_names)")
    names = [str(name) for name in tensor.axes[1].channel_names]
    if len(names) < 2:
        raise InvalidArgument("the output has a single channel; bioclass needs one channel per class (two or more)")
    return names


def architecture(descr) -> str:
    """A timm or torchvision architecture name; code shipped in a package is never run."""
    import_from, callable_name = getattr(descr, "import_from", ""), str(descr.callable)
    model_name = descr.kwargs.get("model_name", "")
    if import_from == "timm" and callable_name == "create_model" and model_name:
        return f"timm:{model_name}"
    if import_from == "torchvision.models":
        return f"torchvision:{callable_name}"
    raise InvalidArgument("pytorch_state_dict weights need a timm (create_model) or torchvision.models "
                          "architecture; architectures from files or other libraries are not loaded")


def provenance(description) -> dict:
    return {"license": str(description.license or ""),
            "authors": [str(a.name) for a in description.authors],
            "citation": "; ".join(str(c.text) + (f" ({c.doi or c.url})" if (c.doi or c.url) else "")
                                  for c in description.cite),
            "training_data": str(description.training_data.id) if getattr(description.training_data, "id", None)
            else ""}


def default_id(description) -> str:
    """A card id from the package's bioimage.io id or name."""
    source = str(description.id or description.name)
    slug = re.sub(r"[^a-z0-9._-]+", "-", source.lower()).strip("-._")[:64]
    return slug or "bioimageio-model"
