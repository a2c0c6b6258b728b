"""What a caller asks of an explanation, and what comes back (transport-neutral)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bioclass.errors import InvalidArgument
from bioclass.server.cards import ModelCard

METHODS = ("auto", "gradcam", "occlusion")


@dataclass(frozen=True)
class ExplainOptions:
    method: str = "auto"
    target: str | int | None = None  # a label, a label index, or None for the predicted class
    window: int = 0  # occlusion window in network-input pixels; 0: a quarter of the smaller side
    stride: int = 0  # 0: half the window

    def checked(self) -> "ExplainOptions":
        if (self.method or "auto") not in METHODS:
            raise InvalidArgument(f"unknown explanation method {self.method!r}; expected one of {', '.join(METHODS)}")
        return self


@dataclass
class ExplanationResult:
    saliency: np.ndarray  # float32 (H, W) at the original image size, in [0, 1]
    method: str
    class_index: int
    class_label: str
    explain_ms: float = 0.0


def target_index(card: ModelCard, target: str | int | None) -> int | None:
    """The label index a target names; None means the predicted class."""
    labels = card.labels
    if target is None or target == "":
        return None
    if isinstance(target, int):
        if not 0 <= target < len(labels):
            raise InvalidArgument(f"class index {target} is out of range for model {card.id} "
                                  f"({len(labels)} labels: {', '.join(labels)})")
        return target
    lowered = [label.lower() for label in labels]
    if target.lower() not in lowered:
        raise InvalidArgument(f"unknown class {target!r} for model {card.id}; its labels are {', '.join(labels)}")
    return lowered.index(target.lower())
