"""The seam between the server and a framework: one small interface per backend module."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from bioclass.server.cards import ModelCard


class LoadedModel(Protocol):
    """A network ready to run: float32 batch in the card's layout, raw outputs (B, K) out."""

    def forward(self, batch: np.ndarray) -> np.ndarray: ...

    def close(self) -> None: ...


class Backend(Protocol):
    """Loads weights of one framework. Implementations live in one module each."""

    def load(self, card: ModelCard, weights: Path, threads: int, onnx_spinning: str = "off") -> LoadedModel:
        """`threads` for one forward pass; `onnx_spinning`: the model's effective serving.onnx_spinning, for
        backends that run ONNX Runtime."""
