"""int8 post-training static quantization of an ONNX export, choosing the settings by measurement.

Which int8 graph is fastest depends on the CPU and the network (here per-channel QDQ made
MobileNetV3 five times slower than fp32, and an int8 first convolution held the compact CNN's int8
model at 1.4x fp32's speed), so every candidate is built, checked on the validation images and
timed with a batch of one, all of them in turns with fp32; the fastest that loses at most a point
of accuracy wins.
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
TIMED_IMAGES = 16
TIMED_ROUNDS = 6


@dataclass(frozen=True)
class Variant:
    fmt: str  # "QDQ" or "QOperator"
    per_channel: bool
    reduce_range: bool
    float_stem: bool = False  # the convolution on the image (3 channels) stays fp32

    @property
    def label(self) -> str:
        return (f"{self.fmt}, {'per-channel' if self.per_channel else 'per-tensor'}"
                f"{', reduce_range' if self.reduce_range else ''}{', fp32 stem' if self.float_stem else ''}")


# The fp32-stem variants: an int8 convolution of a 3-channel image is slower than fp32's and holds back
# a compact CNN's int8 model; keeping that first convolution in fp32 speeds it up, while ResNet10t gains
# nothing from it (the figures: bench/README.md, int8).
CANDIDATES = (Variant("QOperator", False, False), Variant("QOperator", True, False),
              Variant("QDQ", False, False), Variant("QDQ", True, False), Variant("QOperator", False, True),
              Variant("QOperator", False, False, True), Variant("QOperator", True, False, True),
              Variant("QDQ", False, False, True))


def quantize(fp32: Path, int8: Path, calibration: np.ndarray, variant: Variant) -> None:
    export.quantize_int8(fp32, int8, calibration, variant.fmt, variant.per_channel, variant.reduce_range,
                         variant.float_stem)


def measure_candidates(fp32: Path, folder: Path, calibration: np.ndarray, x: np.ndarray, y: np.ndarray,
                       threads: int, candidates=CANDIDATES) -> tuple[dict, list[dict]]:
    """The fp32 measurement and one per int8 variant (format, file, size, accuracy, ms per image),
    the times from `timed_together` (not one model at a time, as `export.measure` times)."""
    forwards = {"fp32": export.onnx_forward(fp32, threads)}
    baseline = export.scored(forwards["fp32"], x, y, fp32, "onnx")
    measured = []
    for number, variant in enumerate(candidates):
        path = folder / f"int8-{number}.onnx"
        try:
            quantize(fp32, path, calibration, variant)
            forwards[number] = export.onnx_forward(path, threads)
            result = export.scored(forwards[number], x, y, path, "onnx-int8")
        except Exception as exc:  # noqa: BLE001 - a variant the runtime cannot build is skipped, with why
            measured.append({"variant": variant.label, "error": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        measured.append({**result, "variant": variant.label, "index": number})
    ms = timed_together(forwards, x)
    baseline["ms_per_image"] = ms["fp32"]
    for result in measured:
        if "index" in result:
            result["ms_per_image"] = ms[result["index"]]
    return baseline, measured


def timed_together(forwards: dict, x: np.ndarray) -> dict:
    """ms per image at batch one for each forward function, the fastest of TIMED_ROUNDS rounds in each
    of which every function runs the same TIMED_IMAGES images in turn: on a shared CPU a burst of other
    work then slows every candidate's round alike instead of one candidate's whole timing (timed one
    after another, the 48 px compact CNN's variants swapped places from run to run)."""
    images = x[:TIMED_IMAGES]
    if not len(images):
        return {name: 0.0 for name in forwards}
    for forward in forwards.values():
        forward(images[:1])
    rounds = {name: [] for name in forwards}
    for _ in range(TIMED_ROUNDS):
        for name, forward in forwards.items():
            rounds[name].append(export.ms_per_image(forward, images))
    return {name: min(times) for name, times in rounds.items()}


def fastest(baseline: dict, measured: list[dict]) -> dict | None:
    """The fastest variant within MAX_ACCURACY_LOSS of fp32, else the most accurate one."""
    usable = [m for m in measured if "error" not in m]
    if not usable:
        return None
    close = [m for m in usable if m["accuracy"] >= baseline["accuracy"] - MAX_ACCURACY_LOSS - 1e-9]
    return min(close, key=lambda m: m["ms_per_image"]) if close else max(usable, key=lambda m: m["accuracy"])
