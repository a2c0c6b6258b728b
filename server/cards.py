"""Model cards: the declarative description of a model (YAML), validated once at load time."""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bioclass.errors import InvalidArgument
from bioclass.server.classical.spec import MAX_SIZE as CLASSICAL_MAX_SIZE
from bioclass.server.classical.spec import FeatureSpec

CARD_FILE = "card.yaml"
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

# Weight format from the file name when the card does not say.
_FORMAT_BY_SUFFIX = {".pt": "torchscript", ".pth": "torchscript", ".torchscript": "torchscript",
                     ".onnx": "onnx", ".keras": "keras", ".h5": "h5", ".hdf5": "h5"}
FORMATS = {"pytorch": {"torchscript", "state_dict"}, "keras": {"keras", "h5", "savedmodel"}, "onnx": {"onnx"},
           "classical": {"onnx"}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    axes: Literal["bchw", "bhwc"] = "bchw"
    channels: Literal[1, 3] = 3
    size: tuple[int, int] = Field(..., description="[height, width] of the network input")
    dtype: Literal["float32"] = "float32"
    tensor_name: str = ""

    @field_validator("size")
    @classmethod
    def _positive(cls, size: tuple[int, int]) -> tuple[int, int]:
        if min(size) < 1 or max(size) > 4096:
            raise ValueError("size must be [height, width] between 1 and 4096")
        return size


class Preprocessing(_Strict):
    resize: Literal["stretch", "pad", "crop"] = "stretch"
    color: Literal["rgb", "gray"] = "rgb"
    scale: Literal["range", "minmax", "percentile", "zscore", "none"] = "range"  # zscore: per-image mean/std
    percentiles: tuple[float, float] = (1.0, 99.8)
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "Preprocessing":
        low, high = self.percentiles
        if not 0 <= low < high <= 100:
            raise ValueError("percentiles must be [low, high] with 0 <= low < high <= 100")
        if len(self.mean) != len(self.std):
            raise ValueError("mean and std must have the same length")
        if any(s <= 0 for s in self.std):
            raise ValueError("std values must be positive")
        return self


class OutputSpec(_Strict):
    labels: tuple[str, ...]
    activation: Literal["softmax", "sigmoid", "none"] = "softmax"

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if len(labels) < 2:
            raise ValueError("a classifier needs at least two labels")
        if len({label.lower() for label in labels}) != len(labels):
            raise ValueError("labels must be distinct (case-insensitively)")
        return labels


class Provenance(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    training_data: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    license: str = ""
    citation: str = ""
    authors: tuple[str, ...] = ()
    created: str = ""


class ModelCard(_Strict):
    id: str
    name: str = ""
    description: str = ""
    framework: Literal["pytorch", "keras", "onnx", "classical"]
    weights: str
    format: Optional[str] = None
    architecture: str = ""
    tags: tuple[str, ...] = ()
    input: InputSpec
    preprocessing: Preprocessing = Preprocessing()
    output: OutputSpec
    provenance: Provenance = Provenance()
    # Serving options read by the runner (see server/runner.py; replicas and autoscaling: server/ray/).
    serving: dict[str, bool | int | float | str | dict] = Field(default_factory=dict)
    # A classical model's handcrafted features, computed from the prepared input before its ONNX head.
    features: Optional[FeatureSpec] = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not MODEL_ID.match(value):
            raise ValueError("id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("weights")
    @classmethod
    def _confined(cls, value: str) -> str:
        path = PurePosixPath(value)
        if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
            raise ValueError("weights must be a relative path inside the model's folder")
        return value

    @model_validator(mode="after")
    def _format_fits(self) -> "ModelCard":
        fmt = self.weight_format
        if fmt not in FORMATS[self.framework]:
            raise ValueError(f"format {fmt!r} is not one of {sorted(FORMATS[self.framework])} for {self.framework}")
        if fmt == "state_dict" and not re.match(r"^(timm|torchvision):[\w.]+$", self.architecture):
            raise ValueError("state_dict weights need architecture: 'timm:NAME' or 'torchvision:NAME'")
        if (self.framework == "classical") != (self.features is not None):
            raise ValueError("a classical model needs features, and only a classical model has them")
        if self.framework == "classical" and max(self.input.size) > CLASSICAL_MAX_SIZE:
            raise ValueError(f"a classical model's input size is at most {CLASSICAL_MAX_SIZE} pixels")
        for name, values in (("mean", self.preprocessing.mean), ("std", self.preprocessing.std)):
            if len(values) not in (0, 1, self.input.channels):
                raise ValueError(f"preprocessing.{name} needs 1 or {self.input.channels} values")
        return self

    @property
    def weight_format(self) -> str:
        if self.format:
            return self.format
        if self.architecture and self.framework == "pytorch":
            return "state_dict"
        suffix = PurePosixPath(self.weights).suffix.lower()
        return _FORMAT_BY_SUFFIX.get(suffix, "savedmodel" if not suffix else suffix.lstrip("."))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.output.labels


def parse_card(text: str, source: str = "card") -> ModelCard:
    """A validated card from YAML text; InvalidArgument names every problem found."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"{source}: a card must be a YAML mapping")
    try:
        return ModelCard.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'card'}: {err['msg']}"
                             for err in exc.errors())
        raise InvalidArgument(f"{source}: invalid card: {problems}") from None


def read_card(folder: Path) -> ModelCard:
    path = folder / CARD_FILE
    return parse_card(path.read_text(encoding="utf-8"), str(path))
