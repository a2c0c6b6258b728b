"""The hop to a model process, without gRPC: one caller on an event loop, the same ONNX model in a
model process (session.py, through its ring) and in the server process (inprocess.py), alternating
rounds; the ring's legs (send -> model process, the pass, answer -> event loop) from its header.

    .venv/bin/python bench/hop.py                      # bench/models/onnx/mobilenetv3-small.onnx (serving.py exports it)
    .venv/bin/python bench/hop.py --model PATH.onnx --size 16 --rounds 5 --calls 300

CPU per call counts the benchmark process and the model process together.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
_TICKS = os.sysconf("SC_CLK_TCK")


def model_folder(model: Path, size: int) -> Path:
    """A card beside a link to the model (the card names its input size)."""
    folder = Path(tempfile.mkdtemp(prefix="bioclass-hop-")) / "model"
    folder.mkdir()
    os.symlink(model.resolve(), folder / "model.onnx")
    card = {"id": "hop", "framework": "onnx", "weights": "model.onnx",
            "input": {"axes": "bchw", "channels": 3, "size": [size, size]}, "preprocessing": {"scale": "none"},
            "output": {"labels": ["a", "b"], "activation": "none"}}
    (folder / "card.yaml").write_text(json.dumps(card))
    return folder


def child_cpu_s(session) -> float:
    if session.process is None:
        return 0.0
    fields = Path(f"/proc/{session.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def one_round(session, batch: np.ndarray, calls: int, legs: list) -> tuple[float, float]:
    """(p50 ms per call, CPU ms per call)."""
    for _ in range(20):
        await session.forward_parts_async([batch])
    times, cpu_before, child_before = [], time.process_time(), child_cpu_s(session)
    for _ in range(calls):
        started = time.perf_counter()
        await session.forward_parts_async([batch])
        times.append(time.perf_counter() - started)
        if getattr(session, "hop", None) is not None:
            legs.append(session.hop)
    cpu = time.process_time() - cpu_before + child_cpu_s(session) - child_before
    return 1000 * statistics.median(times), 1000 * cpu / calls


async def run(folder: Path, size: int, rounds: int, calls: int) -> None:
    from bioclass.server.inprocess import InProcessSession
    from bioclass.server.session import ModelSession
    from bioclass.server.settings import usable_cores

    batch = np.random.default_rng(7).random((1, 3, size, size), dtype=np.float32)
    threads = usable_cores()
    sessions = {"model process": ModelSession(folder, threads), "server process": InProcessSession(folder, threads)}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in sessions}
    legs: list = []
    try:
        for _ in range(rounds):
            for name, session in sessions.items():
                results[name].append(await one_round(session, batch, calls, legs))
    finally:
        for session in sessions.values():
            session.close()
    for name, per_round in results.items():
        print(f"{name:15s} p50 ms per round {[round(p, 3) for p, _ in per_round]}  "
              f"CPU ms per call {[round(c, 3) for _, c in per_round]}")
    ratios = [a[0] / b[0] for a, b in zip(results["model process"], results["server process"])]
    print(f"model process / server process, p50 per call: median {statistics.median(ratios):.2f} "
          f"(per round {[round(r, 2) for r in ratios]})")
    for leg in ("to_child_ms", "pass_ms", "to_parent_ms"):
        values = sorted(getattr(hop, leg) for hop in legs)
        print(f"ring {leg:13s} p50 {values[len(values) // 2]:.3f}  p90 {values[int(len(values) * 0.9)]:.3f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=BENCH / "models" / "onnx" / "mobilenetv3-small.onnx")
    parser.add_argument("--size", type=int, default=224, help="the model's input height and width")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200, help="calls per round and path")
    args = parser.parse_args()
    if not args.model.exists():
        parser.error(f"{args.model} is missing: run bench/serving.py once (it exports the model)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    asyncio.run(run(model_folder(args.model, args.size), args.size, args.rounds, args.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
