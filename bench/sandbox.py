"""What the model-process sandbox costs (server/sandbox.py): model process start and one-client Predict
latency, with the sandbox on and off, alternating so that a busy machine hurts both alike; and each model
process's private memory (VmData, what RLIMIT_DATA counts) beside its address space (VmSize, RLIMIT_AS).

    .venv/bin/python bench/sandbox.py [--rounds 2] [--calls 200]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from models import solid_image  # noqa: E402
from server_process import ServerProcess  # noqa: E402
from security.test_sandbox_server import model_processes  # noqa: E402

from bioclass.client import Client  # noqa: E402

MODELS = ("brightness-onnx", "brightness-pytorch", "brightness-keras")


def measure(zoo: Path, sandboxed: bool, calls: int) -> dict[str, tuple[float, float, str]]:
    """Per model: seconds to the first answer (process start and load), median Predict ms, memory."""
    server = ServerProcess("--no-builtin", "--zoo", str(zoo), work_dir=Path(tempfile.mkdtemp()), timeout=120,
                           env={"BIOCLASS_SANDBOX": str(sandboxed).lower(), "BIOCLASS_INFERENCE_THREADS": "1"})
    image, results, seen = solid_image(0.9), {}, set()
    try:
        with Client(server.address, timeout=300) as client:
            for model_id in MODELS:
                started = time.perf_counter()
                client.predict(image, model_id)
                first = time.perf_counter() - started
                latencies = []
                for _ in range(calls):
                    started = time.perf_counter()
                    client.predict(image, model_id)
                    latencies.append((time.perf_counter() - started) * 1000)
                (pid,) = set(model_processes(server.process.pid)) - seen  # the one this model started
                seen.add(pid)
                results[model_id] = (first, statistics.median(latencies), _memory(pid))
    finally:
        server.stop()
    return results


def _memory(pid: int) -> str:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return f"VmData {status['VmData'].strip()}, VmSize {status['VmSize'].strip()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    zoo = Path(tempfile.mkdtemp()) / "zoo"
    subprocess.run([sys.executable, str(REPO / "tests" / "models.py"), str(zoo)], check=True, capture_output=True)
    for round_ in range(args.rounds):
        for sandboxed in (True, False):
            for model_id, (first, median_ms, memory) in measure(zoo, sandboxed, args.calls).items():
                print(f"round {round_} sandbox {'on ' if sandboxed else 'off'} {model_id:20s} first answer "
                      f"{first:6.2f} s, Predict median {median_ms:6.2f} ms  {memory}", flush=True)


if __name__ == "__main__":
    main()
