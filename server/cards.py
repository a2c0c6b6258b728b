"""Model cards: the declarative description of a model (YAML), validated once at load time."""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Literal, Optional

import yaml
from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt,
                      ValidationError, field_validator, model_serializer, model_validator)

from bioclass.errors import InvalidArgument
from bioclass.server.classical.spec import MAX_SIZE as CLASSICAL_MAX_SIZE
from bioclass.server.classical.spec import FeatureSpec

CARD_FILE = "card.yaml"
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_WEIGHTS_NAME = 255  # bytes of UTF-8: what file systems allow one name
MAX_PAGE = 1000  # page numbers a card (or a request) may name are below this
DEVICE = re.compile(r"^(auto|cpu|cuda(:(0|[1-9][0-9]{0,2}))?)$")

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
    # Pages of a multi-page image (channels of a multi-channel array), 0-based, read as the network's
    # channels in this order; empty: the image as decoded. Two pages feed a 3-channel network with a zero third.
    pages: tuple[int, ...] = ()

    @field_validator("pages")
    @classmethod
    def _few_distinct_pages(cls, pages: tuple[int, ...]) -> tuple[int, ...]:
        if len(pages) > 3 or len(set(pages)) != len(pages) or any(not 0 <= p < MAX_PAGE for p in pages):
            raise ValueError(f"pages must be at most 3 distinct page numbers from 0 to {MAX_PAGE - 1}")
        return pages

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


class Tiling(_Strict):
    """The network sees tiles of the image at native scale; their probabilities make the image's answer."""

    size: tuple[int, int] = Field(..., description="tile [height, width] in source pixels, resized to input.size")
    stride: Optional[tuple[int, int]] = Field(None, description="default: size; the last tiles align to the edge")
    aggregation: Literal["mean", "majority"] = "mean"

    @model_validator(mode="after")
    def _bounded(self) -> "Tiling":
        if min(self.size) < 1 or max(self.size) > 16384:
            raise ValueError("size must be [height, width] between 1 and 16384")
        if self.stride is not None and (min(self.stride) < 1 or any(s > t for s, t in zip(self.stride, self.size))):
            raise ValueError("stride must be positive and at most the tile size (tiles may not leave gaps)")
        return self

    @property
    def step(self) -> tuple[int, int]:
        return self.stride or self.size


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


SpinningMode = Literal["off", "pass", "always", "alone"]


def spinning_mode(value: bool | str) -> str:
    """ONNX Runtime's idle threads: `off` (they sleep), `pass` (they spin during a forward pass and sleep
    between passes), `always`, or `alone` (a pass that serves the model's only request in flight spins, as
    `always`; passes under load sleep, as `off`). True and false, as cards and settings said before, mean
    always and off."""
    if isinstance(value, bool):
        return "always" if value else "off"
    return value


class _Options(BaseModel):
    """Serving options are checked strictly: a quoted number or a 1 for true is a mistake in a card."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_serializer(mode="wrap")
    def _set_only(self, handler) -> dict:
        """Dumps hold only the options a card set, as it wrote them."""
        return {name: value for name, value in handler(self).items() if value is not None}


class AutoscalingOptions(_Options):
    """Ray Serve's autoscaling_config (server/ray/); unset keys take Ray's defaults."""

    min_replicas: Optional[NonNegativeInt] = None
    max_replicas: Optional[NonNegativeInt] = None
    initial_replicas: Optional[NonNegativeInt] = None
    target_ongoing_requests: Optional[NonNegativeFloat] = None
    upscale_delay_s: Optional[NonNegativeFloat] = None
    downscale_delay_s: Optional[NonNegativeFloat] = None

    @model_validator(mode="after")
    def _replicas_ordered(self) -> "AutoscalingOptions":
        low = 1 if self.min_replicas is None else self.min_replicas
        high = 1 if self.max_replicas is None else self.max_replicas
        if high < max(1, low):
            raise ValueError(f"needs 0 <= min_replicas <= max_replicas and max_replicas >= 1; got {low} and {high}")
        return self


class RayActorOptions(_Options):
    """What each Ray replica reserves; num_cpus defaults to the server's ray_replica_cpus."""

    num_cpus: Optional[NonNegativeFloat] = None
    num_gpus: Optional[NonNegativeFloat] = None
    memory: Optional[NonNegativeFloat] = None
    resources: Optional[dict[str, PositiveFloat]] = None


class ServingOptions(_Options):
    """A card's `serving:` section. Unset (None) options take the server's settings
    (server/batching.py effective_policy); replicas, autoscaling and ray_actor_options only matter
    with --ray (server/ray/options.py)."""

    max_batch_size: Optional[PositiveInt] = None
    max_queue_delay_us: Optional[NonNegativeInt] = None
    queue_size: Optional[PositiveInt] = None
    instances: Optional[PositiveInt] = None
    isolation: Optional[Literal["process", "in_process"]] = None
    onnx_spinning: Optional[bool | SpinningMode] = None  # spinning_mode(); true and false kept for old cards
    serve_as: Optional[Literal["onnx"]] = None  # a PyTorch or Keras model served through ONNX Runtime
    pinned: Optional[bool] = None  # never unloaded to make room under the memory budget (server/lifecycle.py)
    replicas: Optional[PositiveInt] = None
    autoscaling: Optional[AutoscalingOptions] = None
    ray_actor_options: Optional[RayActorOptions] = None


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
    tiling: Optional[Tiling] = None
    provenance: Provenance = Provenance()
    serving: ServingOptions = ServingOptions()
    # A classical model's handcrafted features, computed from the prepared input before its ONNX head.
    features: Optional[FeatureSpec] = None
    # Where the network runs: auto (CUDA when the framework sees one, else the CPU), cpu, cuda or cuda:N.
    device: str = "auto"
    # Set in one version's card: that version is the model's default rather than the newest (zoo.py).
    default_version: bool = False
    # An .npy of network inputs (float32 [B, ...input shape]) in the model's folder, run as the warm-up
    # before the model is ready; empty: a zero image of the input size.
    test_input: str = ""

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not isinstance(value, str) or not DEVICE.match(value):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N (N from 0 to 999); got {value!r}")
        return value

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not MODEL_ID.match(value):
            raise ValueError("id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("weights", "test_input")
    @classmethod
    def _confined(cls, value: str, info) -> str:
        if not value and info.field_name == "test_input":
            return value
        path = PurePosixPath(value)
        if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
            raise ValueError(f"{info.field_name} must be a relative path inside the model's folder")
        if not value.isprintable() or len(value.encode("utf-8", "replace")) > MAX_WEIGHTS_NAME:
            raise ValueError(f"{info.field_name} must be a printable name of at most {MAX_WEIGHTS_NAME} bytes")
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
        raise InvalidArgument(f"{source}: invalid card: {problems(exc)}") from None


def serving_options(values: dict) -> ServingOptions:
    """A `serving:` section checked on its own (the server's ray_autoscaling setting, tests)."""
    try:
        return ServingOptions.model_validate(values)
    except ValidationError as exc:
        raise InvalidArgument(problems(exc, ("serving",))) from None


def problems(exc: ValidationError, prefix: tuple[str, ...] = ()) -> str:
    """One line naming each invalid key by its path, e.g. 'serving.replicas: ...'."""
    found = []
    for err in exc.errors():
        *parents, last = (*prefix, *(str(p) for p in err["loc"])) or ("card",)
        if err["type"] == "extra_forbidden":
            found.append(f"{'.'.join(parents) or 'card'}: unknown keys [{last!r}]")
        else:
            found.append(f"{'.'.join((*parents, last))}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(found)


def read_card(folder: Path) -> ModelCard:
    path = folder / CARD_FILE
    return parse_card(path.read_text(encoding="utf-8"), str(path))
