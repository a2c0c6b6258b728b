"""What a training job is asked to do: the dataset and the recipe, validated once when queued.

Defaults are the ATLASS recipe: head training with the body frozen, a learning-rate finder,
one-cycle training with discriminative rates, early stopping, a weighted loss for imbalance.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bioclass.errors import InvalidArgument
from bioclass.server.cards import DEVICE, MAX_PAGE

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: str = ""
    server_dir: str = ""
    labels_csv: str = ""
    unlabelled_dir: str = ""
    splits_csv: str = ""
    group_pattern: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> "DatasetSpec":
        if bool(self.dataset_id) == bool(self.server_dir):
            raise ValueError("give exactly one of dataset_id (an upload) or server_dir (a folder on the server)")
        if self.group_pattern and group_pattern(self.group_pattern).groups != 1:
            raise ValueError("group_pattern needs exactly one group, e.g. 'C\\d+(P\\d+)'")
        return self


def group_pattern(pattern: str):
    """A client's regex, compiled for RE2: matching takes time linear in the text whatever the pattern
    (a backtracking engine can spin for hours on `^(\\w+\\s?)*$`)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # the client hears what is wrong; the server log need not
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        problem = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"group_pattern is not a regular expression RE2 accepts: {problem}") from None


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arch: str = Field(..., min_length=1)
    model_id: str = ""
    overwrite: bool = False
    epochs: int = Field(10, ge=1, le=1000)
    head_epochs: int = Field(-1, ge=-1, le=100, description="-1: 1 with pretrained weights, 0 without")
    batch_size: int = Field(32, ge=1, le=4096)
    image_size: tuple[int, int] = (224, 224)
    learning_rate: float = Field(0.0, ge=0.0, le=10.0, description="0: run the learning-rate finder")
    body_lr_divisor: float = Field(10.0, ge=1.0)
    weight_decay: float = Field(1e-2, ge=0.0)
    patience: int = Field(3, ge=-1)
    imbalance: Literal["weighted_loss", "sampler", "none"] = "weighted_loss"
    pretrained: str = "auto"
    seed: int = Field(0, ge=0)
    val_fraction: float = Field(0.15, ge=0.0, lt=1.0)
    test_fraction: float = Field(0.15, ge=0.0, lt=1.0)
    augmentation: str = ""
    quantize: bool = False
    max_seconds: float = Field(0.0, ge=0.0)
    threads: int = Field(0, ge=0)
    augmented_copies: int = Field(0, ge=0, le=100)
    serve_format: Literal["torchscript", "onnx"] = "torchscript"
    lr_finder_steps: int = Field(60, ge=5, le=1000)
    # Semi-supervised training (bioclass.server.training.distill): pseudo-labels for the unlabelled folder.
    semi_supervised: Literal["", "data", "model", "model_data", "data_iterative", "model_iterative",
                             "model_data_iterative", "topological"] = ""
    pseudo_threshold: float = Field(0.8, gt=0.0, le=1.0)
    ensemble_archs: list[str] = Field(default_factory=list, description="model distillation's other teachers")
    # The data's shape (AutoML sets these from the dataset profile): the card's preprocessing.scale, its
    # tiling (tiles of `tile` source pixels at native scale, resized to image_size; 0: the whole image)
    # and the pages of multi-page files read as channels.
    scale: Literal["range", "percentile", "zscore", "minmax"] = "range"
    tile: int = Field(0, ge=0, le=4096)
    pages: list[int] = Field(default_factory=list, max_length=3)
    device: str = Field("auto", description="a card's device: auto, cpu, cuda or cuda:N (server/devices.py)")
    # AutoML's finalists (server/automl/service.py). cross_validate: train and validate the configuration once
    # per fold of server/automl/folds.py (max_seconds per fold), export nothing. train_on_all: the validation
    # split is trained on too (the chosen configuration retrained before it is served).
    cross_validate: bool = False
    folds: int = Field(0, ge=0, le=10, description="cross_validate's folds; 0: as many as server/automl/folds.py makes")
    train_on_all: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "TrainConfig":
        if not DEVICE.match(self.device or "auto"):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N; got {self.device!r}")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError("val_fraction + test_fraction must leave at least 10% for training")
        if min(self.image_size) < 8 or max(self.image_size) > 1024:
            raise ValueError("image size must be between 8 and 1024 pixels")
        if any(not 0 <= p < MAX_PAGE for p in self.pages) or len(set(self.pages)) != len(self.pages):
            raise ValueError(f"pages must be distinct page numbers from 0 to {MAX_PAGE - 1}")
        return self


def validated(model: type[BaseModel], values: dict, what: str) -> BaseModel:
    """A pydantic model from values, with every problem in one InvalidArgument."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}" for err in exc.errors())
        raise InvalidArgument(f"invalid {what}: {problems}") from None


@dataclass
class Plan:
    """What a job's process is told: where its dataset and its folder are, and what to train."""
    job_id: str
    job_dir: Path
    dataset_root: Path
    spec: DatasetSpec
    config: TrainConfig
    model_id: str

    @classmethod
    def from_values(cls, values: dict, **extra) -> "Plan":
        """The plan from the plain values the scheduler sends to the job's process."""
        return cls(job_id=values["job_id"], job_dir=Path(values["job_dir"]), dataset_root=Path(values["dataset_root"]),
                   spec=DatasetSpec.model_validate(values["spec"]), config=TrainConfig.model_validate(values["config"]),
                   model_id=values["model_id"], **extra)
