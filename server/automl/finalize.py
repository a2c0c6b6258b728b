"""The end of a run, in a helper process: quantize the best trial's ONNX export and write the two
model folders (fp32 and int8) the server then registers. Importable by name (spawned process)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from bioclass.server.automl import folders, quantize
from bioclass.server.cards import read_card
from bioclass.server.training import data, datasets
from bioclass.server.training.config import DatasetSpec, TrainConfig

CALIBRATION_IMAGES = 64


def finalize(best_export: str, dataset_root: str, spec: dict, config: dict, out_dir: str, model_id: str,
             threads: int) -> dict:
    export_dir, out = Path(best_export), Path(out_dir)
    card = read_card(export_dir)
    calibration, (x, y) = _images(Path(dataset_root), DatasetSpec.model_validate(spec),
                                  TrainConfig.model_validate(config), card)
    work = out / "candidates"
    work.mkdir(parents=True, exist_ok=True)
    baseline, measured = quantize.measure_candidates(export_dir / "model.onnx", work, calibration, x, y, threads)
    chosen = quantize.fastest(baseline, measured)
    fp32_dir = folders.model_folder(export_dir, out / "fp32", export_dir / "model.onnx", model_id, "fp32")
    exports = [{**baseline, "file": "model.onnx"}]
    result = {"fp32_dir": str(fp32_dir), "candidates": measured, "exports": exports, "quantization": ""}
    if chosen is not None:
        int8_dir = folders.model_folder(export_dir, out / "int8", work / f"int8-{chosen['index']}.onnx",
                                        model_id + folders.INT8_SUFFIX, f"int8 ({chosen['variant']})")
        measured_int8 = {k: chosen[k] for k in ("format", "size_bytes", "accuracy", "ms_per_image")}
        exports.append({**measured_int8, "file": "model.onnx"})
        result.update(int8_dir=str(int8_dir), quantization=chosen["variant"])
    shutil.rmtree(work, ignore_errors=True)
    return result


def _images(root: Path, spec: DatasetSpec, config: TrainConfig, card) -> tuple[np.ndarray, tuple]:
    """Calibration images from the training split, and the validation split with its classes."""
    samples, _ = datasets.resolve_samples(root, spec)
    splits = datasets.assign_splits(root, samples, spec, config)
    labels = list(card.labels)
    index = {label: i for i, label in enumerate(labels)}

    def split(name: str) -> data.ImageSet:
        return data.load(root, [(s.path, index[s.label]) for s, where in zip(samples, splits) if where == name], [],
                         card)

    train, val = split("train"), split("val")
    held_out = val if len(val) else train
    calibration = data.prepared_tensor(train, card).numpy()
    picks = np.random.default_rng(config.seed).permutation(len(calibration))[:CALIBRATION_IMAGES]
    x = data.prepared_tensor(held_out, card).numpy()
    return calibration[np.sort(picks)], (x, data.row_targets(held_out, card))
