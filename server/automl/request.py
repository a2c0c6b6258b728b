"""What an AutoML run is asked to do, validated once when it starts; defaults filled in."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bioclass.server.automl import space as search
from bioclass.server.cards import MAX_PAGE
from bioclass.server.classical.spec import ARCHITECTURES as CLASSICAL
from bioclass.server.classical.spec import FROZEN_DEFAULT, FROZEN_PREFIX, VOTE
from bioclass.server.training.config import DatasetSpec, validated

VOTE_ARCH = f"classical:{VOTE}"


class AutoMLConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: DatasetSpec
    budget_minutes: float = Field(..., gt=0.0, le=7 * 24 * 60)
    metric: str = ""  # empty: from the dataset profile (server/automl/shape.py)
    max_model_mb: float = Field(0.0, ge=0.0)
    max_latency_ms: float = Field(0.0, ge=0.0)
    model_id: str = ""
    overwrite: bool = False
    # Networks, and the candidates that compete with them: classical:<head> (handcrafted features) and
    # frozen:<timm backbone> (pretrained features + logistic regression; skipped without pretrained weights).
    architectures: list[str] = Field(default_factory=lambda: [*search.DEFAULT_ARCHITECTURES, *CLASSICAL,
                                                              FROZEN_DEFAULT])
    # Empty lists: chosen from the dataset profile before the search (server/automl/shape.py).
    image_sizes: list[int] = Field(default_factory=list)
    tilings: list[str] = Field(default_factory=list)
    scales: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list, max_length=3)
    semi_supervised_modes: list[str] = Field(default_factory=lambda: list(search.DEFAULT_SEMI_SUPERVISED))
    seed: int = Field(0, ge=0)
    val_fraction: float = Field(0.2, gt=0.0, lt=0.9)
    threads: int = Field(0, ge=0)
    ray_address: str = ""  # checked by joining the cluster (cluster.py), not here

    @model_validator(mode="after")
    def _known_choices(self) -> "AutoMLConfig":
        if self.metric and self.metric not in search.METRICS:
            raise ValueError(f"metric must be one of {', '.join(search.METRICS)}")
        unknown = set(self.semi_supervised_modes) - set(search.SEMI_SUPERVISED)
        if unknown:
            raise ValueError(f"unknown semi-supervised modes {sorted(unknown)}; "
                             f"known: {', '.join(search.SEMI_SUPERVISED)}")
        unknown_classical = {a for a in self.architectures if a.startswith("classical:")} - set(CLASSICAL)
        if unknown_classical:
            raise ValueError(f"unknown classical candidates {sorted(unknown_classical)}; known: {', '.join(CLASSICAL)}")
        if VOTE_ARCH in self.architectures and len({a for a in self.architectures if a in CLASSICAL} - {VOTE_ARCH}) < 2:
            raise ValueError(f"{VOTE_ARCH} averages the other classical heads: name at least two of them")
        if any(a.startswith(FROZEN_PREFIX) and ":" in a.removeprefix(FROZEN_PREFIX).removeprefix("timm:")
               for a in self.architectures):
            raise ValueError("frozen-feature backbones are timm architectures: frozen:NAME")
        if any(not 8 <= s <= 1024 for s in self.image_sizes):
            raise ValueError("image sizes must be between 8 and 1024 pixels")
        if not self.architectures or not self.semi_supervised_modes:
            raise ValueError("architectures and semi_supervised_modes may not be empty lists")
        _known("tilings", self.tilings, search.TILINGS)
        _known("scales", self.scales, search.SCALES)
        if any(not 0 <= p < MAX_PAGE for p in self.pages) or len(set(self.pages)) != len(self.pages):
            raise ValueError(f"pages must be distinct page numbers from 0 to {MAX_PAGE - 1}")
        return self


def _known(name: str, values: list[str], known: tuple[str, ...]) -> None:
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown {name} {sorted(unknown)}; known: {', '.join(known)}")


# Zero is a value for these (the proto's val_fraction is `optional`: present only when sent), not "the default".
ZERO_IS_GIVEN = ("budget_minutes", "val_fraction")


def validated_request(values: dict) -> AutoMLConfig:
    """The request with defaults for what was left empty; InvalidArgument names every problem."""
    given = {k: v for k, v in values.items() if v not in ("", 0, 0.0, [], None) or k in ZERO_IS_GIVEN}
    return validated(AutoMLConfig, given, "AutoML request")
