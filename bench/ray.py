"""Serving on Ray (issue 8): one replica versus two on this machine, and what the Ray path costs.

    .venv/bin/python bench/ray.py [--seconds 5]

One run, printed as Markdown:
- the single-process server (no Ray; one inference thread per model) at concurrency 1 and 8;
- the same server with --ray on a one-node cluster started here (2 logical CPUs), each model as
  one replica and as two replicas of 1 CPU each, at concurrency 1 (one replica) and 8.
Ratios: scaling efficiency = img/s with two replicas / (2 x img/s with one), and the Ray path's
per-request overhead = its p50 at concurrency 1 / the single-process server's. The client sends
the model's sample image through our own API (decode and preprocessing in the front server).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "ray"))
sys.path.insert(0, str(BENCH))  # first: tests/serving is a package too

from serving import Result, measure  # noqa: E402
from ray_support import LocalCluster  # noqa: E402
from server_process import ServerProcess  # noqa: E402

from bioclass.model_zoo import ZOO_DIR  # noqa: E402

MODELS = {"malaria-cnn-onnx": "malaria", "wbc-cnn-onnx": "wbc"}  # model -> its samples folder
REPLICAS = {"r1": 1, "r2": 2}
ENV = {"BIOCLASS_INFERENCE_THREADS": "1"}


def replicated_zoo(root: Path) -> Path:
    """Each built-in ONNX model twice: as one replica and as two, each of 1 CPU."""
    for model in MODELS:
        for suffix, count in REPLICAS.items():
            folder = root / f"{model}-{suffix}"
            shutil.copytree(ZOO_DIR / model, folder)
            card = (folder / "card.yaml").read_text().replace(f"id: {model}", f"id: {model}-{suffix}", 1)
            (folder / "card.yaml").write_text(card + f"\nserving:\n  replicas: {count}\n"
                                                     "  ray_actor_options: {num_cpus: 1}\n")
    return root


def predictions(address: str, model_id: str, sample: Path, concurrency: int, seconds: float, path: str) -> Result:
    from bioclass.client import Client

    def make_call():
        client = Client(address)
        return lambda: client.predict(sample, model_id, top_k=1)

    return measure(path, model_id, make_call, concurrency, seconds)


def load(address: str, model_id: str) -> None:
    """Deploy and wait for every replica (a model otherwise serves from its first ready replica)."""
    import tritonclient.grpc as tg

    tg.InferenceServerClient(address).load_model(model_id, client_timeout=300)


def unload(address: str, model_id: str) -> None:
    """Free the model's CPUs for the next deployment."""
    import tritonclient.grpc as tg

    tg.InferenceServerClient(address).unload_model(model_id)


def run(seconds: float) -> list[tuple[str, Result]]:
    results = []
    samples = {model: next((ZOO_DIR / "samples" / folder).iterdir()) for model, folder in MODELS.items()}
    with tempfile.TemporaryDirectory() as work:
        server = ServerProcess(work_dir=Path(work), env=ENV)
        try:
            for model, sample in samples.items():
                for c in (1, 8):
                    results.append((model, predictions(server.address, model, sample, c, seconds, "single process")))
        finally:
            server.stop()
    cluster = LocalCluster(cpus_per_node=2, resources_per_node={})
    try:
        cluster.start_node("node_a")
        with tempfile.TemporaryDirectory() as work:
            zoo = replicated_zoo(Path(work) / "zoo")
            server = ServerProcess("--no-builtin", "--zoo", str(zoo), "--ray", cluster.address,
                                   work_dir=Path(work) / "work", env=ENV, timeout=120)
            try:
                for model, sample in samples.items():
                    r1, r2 = f"{model}-r1", f"{model}-r2"
                    load(server.address, r1)
                    results.append((model, predictions(server.address, r1, sample, 1, seconds, "Ray, 1 replica")))
                    results.append((model, predictions(server.address, r1, sample, 8, seconds, "Ray, 1 replica")))
                    unload(server.address, r1)  # the node has 2 CPUs: one per replica
                    load(server.address, r2)
                    results.append((model, predictions(server.address, r2, sample, 8, seconds, "Ray, 2 replicas")))
                    unload(server.address, r2)
            finally:
                server.stop()
    finally:
        cluster.stop()
    return results


def markdown(results: list[tuple[str, Result]], seconds: float, load: str) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
             f"{seconds:g} s per measurement, load average before the run: {load}.", "",
             "| model | path | concurrency | img/s | p50 ms | p95 ms |", "|---|---|---:|---:|---:|---:|"]
    for model, r in results:
        lines.append(f"| {model} | {r.path} | {r.concurrency} | {r.images_per_s:.1f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} |")
    lines += ["", "| ratio | measured |", "|---|---:|"]
    for model in MODELS:
        def find(path: str, c: int) -> Result:
            return next(r for m, r in results if m == model and r.path == path and r.concurrency == c)
        one, two = find("Ray, 1 replica", 8), find("Ray, 2 replicas", 8)
        single, ray_one = find("single process", 1), find("Ray, 1 replica", 1)
        lines.append(f"| {model}: scaling efficiency, 2 replicas / (2 x 1 replica), c=8 | "
                     f"{two.images_per_s / (2 * one.images_per_s):.2f} |")
        lines.append(f"| {model}: Ray p50 / single-process p50, c=1 | {ray_one.p50_ms / single.p50_ms:.2f} "
                     f"(+{ray_one.p50_ms - single.p50_ms:.2f} ms) |")
        lines.append(f"| {model}: Ray 1 replica / single process, img/s at c=8 | "
                     f"{one.images_per_s / find('single process', 8).images_per_s:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(markdown(run(args.seconds), args.seconds, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
