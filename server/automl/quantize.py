"""int8 post-training static quantization of an ONNX export, choosing the settings by measurement.

Which int8 graph is fastest depends on the CPU and the network (here per-channel QDQ made
MobileNetV3 five times slower than fp32), so every candidate is built, timed with a batch of one,
and checked on the validation images; the fastest that loses at most a point of accuracy wins.
Timing is as served: batch one, ONNX Runtime with the server's session options, whose graph
optimisation level ENABLE_ALL matters: at the basic and extended levels the int8 compact CNN was no
faster than fp32 here (bench/README.md, int8).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioclass.server.training import export

MAX_ACCURACY_LOSS = 0.01


@dataclass(frozen=True)
class Variant:
    fmt: str  # "QDQ" or "QOperator"
    per_channel: bool
    reduce_range: bool

    @property
    def label(self) -> str:
        return (f"{self.fmt}, {'per-channel' if self.per_channel else 'per-tensor'}"
                f"{', reduce_range' if self.reduce_range else ''}")


CANDIDATES = (Variant("QOperator", False, False), Variant("QOperator", True, False),
              Variant("QDQ", False, False), Variant("QDQ", True, False), Variant("QOperator", False, True))


def quantize(fp32: Path, int8: Path, calibration: np.ndarray, variant: Variant) -> None:
    export.quantize_int8(fp32, int8, calibration, variant.fmt, variant.per_channel, variant.reduce_range)


def measure_candidates(fp32: Path, folder: Path, calibration: np.ndarray, x: np.ndarray, y: np.ndarray,
                       threads: int, candidates=CANDIDATES) -> tuple[dict, list[dict]]:
    """The fp32 measurement and one per int8 variant (format, file, size, accuracy, ms per image)."""
    baseline = export.measure(export.onnx_forward(fp32, threads), x, y, fp32, "onnx")
    measured = []
    for number, variant in enumerate(candidates):
        path = folder / f"int8-{number}.onnx"
        try:
            quantize(fp32, path, calibration, variant)
            result = export.measure(export.onnx_forward(path, threads), x, y, path, "onnx-int8")
        except Exception as exc:  # noqa: BLE001 - a variant the runtime cannot build is skipped, with why
            measured.append({"variant": variant.label, "error": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        measured.append({**result, "variant": variant.label, "index": number})
    return baseline, measured


def fastest(baseline: dict, measured: list[dict]) -> dict | None:
    """The fastest variant within MAX_ACCURACY_LOSS of fp32, else the most accurate one."""
    usable = [m for m in measured if "error" not in m]
    if not usable:
        return None
    close = [m for m in usable if m["accuracy"] >= baseline["accuracy"] - MAX_ACCURACY_LOSS - 1e-9]
    return min(close, key=lambda m: m["ms_per_image"]) if close else max(usable, key=lambda m: m["accuracy"])
