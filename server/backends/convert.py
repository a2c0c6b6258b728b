"""`serving: {serve_as: onnx}`: run a PyTorch or Keras model through ONNX Runtime.

Converted at load, in the model's process, into a temporary file; kept only when its outputs
agree with the original network's on sample inputs. Any failure keeps the original framework
and says why (the reason is logged by the server).
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from bioclass.server.cards import ModelCard

log = logging.getLogger(__name__)
TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}


class OnnxServed:
    """ONNX Runtime runs the forward passes; anything else (e.g. Grad-CAM) goes to the original."""

    def __init__(self, onnx_model, original):
        self.onnx_model = onnx_model
        self.original = original

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.onnx_model.forward(batch)

    def forward_alone(self, batch: np.ndarray) -> np.ndarray:
        return self.onnx_model.forward_alone(batch)

    def __getattr__(self, name: str):
        return getattr(self.original, name)

    def close(self) -> None:
        self.onnx_model.close()
        self.original.close()


def serve_as_onnx(card: ModelCard, original, threads: int, onnx_spinning: str = "off") -> tuple[object, str]:
    """(the model to serve, a note saying what happened)."""
    try:
        model = _convert(card, original, threads, onnx_spinning)
    except Exception as exc:  # noqa: BLE001 - any failure means: keep the original
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        note = f"serve_as onnx failed, serving with {card.framework}: {reason}"
        log.warning("%s: %s", card.id, note)
        return original, note
    return model, "serving through ONNX Runtime (converted at load; outputs agree on sample inputs)"


def _convert(card: ModelCard, original, threads: int, onnx_spinning: str) -> OnnxServed:
    from bioclass.server.backends.onnx import Backend as OnnxBackend

    folder = Path(tempfile.mkdtemp(prefix=f"bioclass-{card.id}-onnx-"))
    path = folder / "model.onnx"
    samples = _samples(card)
    expected = original.forward(samples)  # before exporting: export may leave a TorchScript module unusable
    try:
        if card.framework == "pytorch":
            _export_torch(original.module, samples, path)
        elif card.framework == "keras":
            _export_keras(original, samples, path)
        else:
            raise ValueError(f"nothing to convert: the model is already {card.framework}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    onnx_card = card.model_copy(update={"input": card.input.model_copy(update={"tensor_name": ""})})
    try:
        converted = OnnxBackend().load(onnx_card, path, threads, onnx_spinning)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # ONNX Runtime holds the model in memory
    got = converted.forward(samples)
    if expected.shape != got.shape or not np.allclose(expected, got, **TOLERANCE):
        difference = float(np.abs(expected - got).max()) if expected.shape == got.shape else float("nan")
        raise ValueError(f"converted outputs differ from the original's (largest difference {difference:.3g})")
    return OnnxServed(converted, original)


def _samples(card: ModelCard) -> np.ndarray:
    """Two random inputs in [0, 1]: enough to catch a wrong layer, cheap at load."""
    height, width = card.input.size
    shape = (2, card.input.channels, height, width) if card.input.axes == "bchw" else (2, height, width, card.input.channels)
    return np.random.default_rng(0).random(shape, dtype=np.float32)


def _export_torch(module, samples: np.ndarray, path: Path) -> None:
    import torch

    with torch.no_grad():
        torch.onnx.export(module, (torch.from_numpy(samples.copy()),), str(path), input_names=["input"],
                          output_names=["output"], opset_version=17, dynamo=False,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def _export_keras(model, samples: np.ndarray, path: Path) -> None:
    keras_model = getattr(model, "model", None)
    if keras_model is None:
        raise ValueError("only .keras and .h5 models can be converted (not SavedModels)")
    keras_model.export(str(path), format="onnx", verbose=False)
