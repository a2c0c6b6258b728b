"""ONNX Runtime's idle threads in the model process (the default, isolated card): off, pass, always, alone.

    .venv/bin/python bench/spinning.py             # 4 rounds of 4 s per path and concurrency
    .venv/bin/python bench/spinning.py --rounds 2 --seconds 3

One bioclass server holds MobileNetV3-small (224 px) four times, each card in its own model process
with one `serving.onnx_spinning` mode; the bare Python server (bench/bare_server.py) is the baseline, its
pass in a thread (threads spinning) for one client and batching on for eight, as in bench/serving.py.
Paths are measured back to back in each round, through OIP with tritonclient, and each ratio is taken
within its round; the medians over rounds are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import serving
from serving import CLASSES, LIGHT, MODELS, SHAPE, _link, oip, start_bare, stop

MODES = ("off", "pass", "always", "alone")


def write_zoo() -> Path:
    zoo = MODELS / "spinning"
    for mode in MODES:
        folder = zoo / f"{LIGHT}-{mode}"
        folder.mkdir(parents=True, exist_ok=True)
        _link(MODELS / "onnx" / f"{LIGHT}.onnx", folder / "model.onnx")
        card = {"id": folder.name, "framework": "onnx", "weights": "model.onnx",
                "input": {"axes": "bchw", "channels": 3, "size": list(SHAPE[1:])}, "preprocessing": {"scale": "none"},
                "output": {"labels": [f"class{i}" for i in range(CLASSES)], "activation": "softmax"},
                "serving": {"onnx_spinning": mode}}
        (folder / "card.yaml").write_text(json.dumps(card, indent=1))
    return zoo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    serving.export_models([LIGHT])
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    server = serving.start_bioclass(write_zoo())
    bare = {mode: start_bare(mode, LIGHT) for mode in ("thread", "batched")}
    ratios: dict[tuple[str, int], list[float]] = {}
    p50s: dict[tuple[str, int], list[float]] = {}
    try:
        for index in range(args.rounds):
            for concurrency, base_mode in ((1, "thread"), (8, "batched")):
                print(f"round {index + 1}, {concurrency} client(s)", flush=True)
                base = oip(bare[base_mode][1], LIGHT, concurrency, args.seconds, serving.BARE[base_mode])
                for mode in MODES:
                    result = oip(server.address, f"{LIGHT}-{mode}", concurrency, args.seconds, f"bioclass, {mode}")
                    ratios.setdefault((mode, concurrency), []).append(result.images_per_s / base.images_per_s)
                    p50s.setdefault((mode, concurrency), []).append(result.p50_ms)
                p50s.setdefault(("bare", concurrency), []).append(base.p50_ms)
    finally:
        server.stop()
        for process, _ in bare.values():
            stop(process)
    print("\n| onnx_spinning | c=1 / bare in a thread | c=8 / bare batching on | p50 ms c=1 | p50 ms c=8 |")
    print("|---|---:|---:|---:|---:|")
    for mode in MODES:
        print(f"| {mode} | {statistics.median(ratios[mode, 1]):.2f} | {statistics.median(ratios[mode, 8]):.2f} | "
              f"{statistics.median(p50s[mode, 1]):.2f} | {statistics.median(p50s[mode, 8]):.2f} |")
    print(f"| (bare) | | | {statistics.median(p50s['bare', 1]):.2f} | {statistics.median(p50s['bare', 8]):.2f} |")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
