"""The feature set a classical model's card names: versioned, with bounded parameters.

A served classical model is this description plus an ONNX head; nothing uploaded is unpickled.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FEATURE_SET = "bioclass-texture"
MAX_SIZE = 1024  # features are computed on the card's input size; this bounds their cost
JOB_ARCH = "classical"  # the TrainConfig.arch of AutoML's classical job
FITTED_HEADS = ("logistic_regression", "random_forest", "gradient_boosting")
VOTE = "soft_vote"  # the mean of the fitted heads' probabilities: no fit of its own
HEADS = (*FITTED_HEADS, VOTE)
ARCHITECTURES = tuple(f"classical:{head}" for head in HEADS)  # AutoML's names for the candidates
# "Frozen deep features + linear head" candidates: frozen:<timm backbone> (server/classical/frozen.py).
FROZEN_PREFIX = "frozen:"
FROZEN_DEFAULT = "frozen:resnet18"
FROZEN_SIZE = 224  # the backbone's input: the size ImageNet features are learnt at
PROBABILITIES = "probabilities"  # the ONNX head's output the classical backend reads (skl2onnx's name)


class FeatureSpec(BaseModel):
    """WND-CHARM-style features of each channel: intensity statistics and histogram, Zernike moments and
    Otsu object statistics at full size; Haralick, LBP and gradient statistics at every scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal["bioclass-texture"] = FEATURE_SET
    version: Literal[1] = 1
    scales: int = Field(3, ge=1, le=4, description="1, 1/2, 1/4 ... of the input size")
    grey_levels: int = Field(32, ge=8, le=256, description="quantisation of the co-occurrence matrices")
    histogram_bins: int = Field(16, ge=4, le=64)
    zernike_degree: int = Field(8, ge=2, le=16)
