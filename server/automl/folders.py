"""The served model folders an AutoML run writes: plain files (no framework), so the server process can
write them itself when the helper process cannot (the classical winner, or a helper that died)."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bioclass.server.cards import CARD_FILE

INT8_SUFFIX = "-int8"  # the run's int8 model is served as MODEL_ID-int8


def model_folder(export_dir: Path, target: Path, weights: Path, model_id: str, what: str) -> Path:
    """A trial's ONNX export (or its quantized weights) as the served model."""
    card = _card(export_dir)
    card.update(framework="onnx", format="onnx", weights="model.onnx")
    card["input"]["tensor_name"] = "input"
    return _write(card, target, weights, model_id, what)


def classical_folder(export_dir: Path, target: Path, model_id: str, what: str) -> Path:
    """A classical candidate (feature set in its card, ONNX head) as the served model."""
    card = _card(export_dir)
    return _write(card, target, export_dir / card["weights"], model_id, what)


def _card(export_dir: Path) -> dict:
    return yaml.safe_load((export_dir / CARD_FILE).read_text(encoding="utf-8"))


def _write(card: dict, target: Path, weights: Path, model_id: str, what: str) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(weights, target / card["weights"])
    card.update(id=model_id, name=f"{card.get('name', model_id)} (AutoML best, {what})")
    card["tags"] = [*card.get("tags", []), "automl"]
    (target / CARD_FILE).write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    return target
