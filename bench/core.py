"""Core serving figures (issue 2): start-up, first-call load per framework, Predict latency.

    .venv/bin/python bench/core.py [--requests 300]

Latency is reported against the same model called in-process (decode, preprocess and
ONNX Runtime in this process), as a ratio measured in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from server_process import ServerProcess  # noqa: E402

from bioclass.client import Client  # noqa: E402
from bioclass.model_zoo import ZOO_DIR  # noqa: E402

SAMPLE = next((ZOO_DIR / "samples" / "malaria").glob("Parasitized_*.png"))
FIRST_CALL = {"pytorch": "malaria-cnn-pytorch", "onnx": "malaria-cnn-onnx", "keras": "malaria-cnn-keras"}


def start_time(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            server = ServerProcess(work_dir=Path(work))
            times.append(time.perf_counter() - started)
            server.stop()
    return statistics.median(times)


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 95))


def timed_calls(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def in_process_call():
    import onnxruntime as ort

    from bioclass import images
    from bioclass.server.cards import read_card
    from bioclass.server.preprocess import prepare

    folder = ZOO_DIR / "malaria-cnn-onnx"
    card = read_card(folder)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(folder / card.weights), options, providers=["CPUExecutionProvider"])
    message = images.to_image(SAMPLE)

    def call():
        pixels = images.decode(message, 50_000_000)
        return session.run(None, {"input": prepare(pixels, card)[None]})[0]

    return call


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    print(f"server start to ready (built-in zoo, median of 3): {start_time():.2f} s")
    with tempfile.TemporaryDirectory() as work:
        server = ServerProcess(work_dir=Path(work))
        try:
            with Client(server.address) as client:
                for framework, model in FIRST_CALL.items():
                    first = timed_calls(lambda: client.predict(SAMPLE, model), 1)[0]
                    warm = statistics.median(timed_calls(lambda: client.predict(SAMPLE, model), 20))
                    print(f"first call {framework:8s} ({model}): {first / 1000:.2f} s  (warm call {warm:.2f} ms)")
                served = timed_calls(lambda: client.predict(SAMPLE, "malaria-cnn-onnx"), args.requests)
        finally:
            server.stop()
    local = timed_calls(in_process_call(), args.requests)
    (s50, s95), (l50, l95) = percentiles(served), percentiles(local)
    print(f"Predict malaria-cnn-onnx, one client, {args.requests} requests:")
    print(f"  served     p50 {s50:.2f} ms  p95 {s95:.2f} ms")
    print(f"  in-process p50 {l50:.2f} ms  p95 {l95:.2f} ms")
    print(f"  ratio served/in-process: p50 {s50 / l50:.1f}x  p95 {s95 / l95:.1f}x")


if __name__ == "__main__":
    main()
