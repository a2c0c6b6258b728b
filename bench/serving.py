"""Serving benchmark: the same ONNX models, input tensors and client code through four paths.

    .venv/bin/python bench/serving.py --quick   # 3 s per measurement
    .venv/bin/python bench/serving.py --full    # 3 rounds of 5 s per measurement, writes bench/README.md
    .venv/bin/python bench/serving.py --full --tuned-clients  # clients' allocator tuned too (printed only)

(a) ONNX Runtime in-process, (b) bioclass through its own API, (c) bioclass through the Open
Inference Protocol with tritonclient (batching on and off), both with the model in its own process
(the default) and tuned for latency: the model in the server process with ONNX Runtime's idle
threads spinning (`serving: {isolation: in_process, onnx_spinning: true}`), (d) MLServer 1.7 serving the same
file with a custom MLModel runtime (bench/setup_mlserver.sh builds its own venv), through OIP
with tritonclient. Models: MobileNetV3-small and ResNet18, 224x224, 10 classes, built from timm
without pretrained weights and exported to ONNX here.

Beside them, the transport floor (bench/floor_server.py): an OIP server that answers without a
model, called the same way. It bounds what any Python gRPC server can reach with one client
(the "ceiling" row).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MODELS = BENCH / "models"
MLSERVER = BENCH / ".venv-mlserver" / "bin" / "mlserver"
ARCHITECTURES = {"mobilenetv3-small": "mobilenetv3_small_100", "resnet18": "resnet18"}
SHAPE = (3, 224, 224)
CLASSES = 10
sys.path.insert(0, str(ROOT / "tests"))


# ---- models ----------------------------------------------------------------------------------

def export_models() -> None:
    """timm networks (random weights) exported to ONNX with a dynamic batch axis; cached."""
    import timm
    import torch

    for model_id, architecture in ARCHITECTURES.items():
        path = MODELS / "onnx" / f"{model_id}.onnx"
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        network = timm.create_model(architecture, pretrained=False, num_classes=CLASSES).eval()
        torch.onnx.export(network, (torch.zeros(1, *SHAPE),), str(path), input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def write_bioclass_zoo() -> Path:
    """One card per model, a copy with batching off (max_batch_size 1), one run in the server process."""
    zoo = MODELS / "bioclass"
    for model_id in ARCHITECTURES:
        for suffix, serving in (("", {}), ("-nobatch", {"max_batch_size": 1}),
                                ("-inprocess", {"isolation": "in_process", "onnx_spinning": True})):
            folder = zoo / f"{model_id}{suffix}"
            folder.mkdir(parents=True, exist_ok=True)
            _link(MODELS / "onnx" / f"{model_id}.onnx", folder / "model.onnx")
            card = {"id": folder.name, "framework": "onnx", "weights": "model.onnx",
                    "input": {"axes": "bchw", "channels": 3, "size": list(SHAPE[1:])},
                    "preprocessing": {"scale": "none"},
                    "output": {"labels": [f"class{i}" for i in range(CLASSES)], "activation": "softmax"},
                    "serving": serving}
            (folder / "card.yaml").write_text(json.dumps(card, indent=1))  # JSON is YAML
    return zoo


def write_mlserver_repository(grpc_port: int) -> Path:
    repository = MODELS / "mlserver"
    for model_id in ARCHITECTURES:
        folder = repository / model_id
        folder.mkdir(parents=True, exist_ok=True)
        _link(MODELS / "onnx" / f"{model_id}.onnx", folder / "model.onnx")
        shutil.copy(BENCH / "mlserver_runtime.py", folder / "onnx_runtime.py")
        (folder / "model-settings.json").write_text(json.dumps(
            {"name": model_id, "implementation": "onnx_runtime.OnnxRuntime", "parameters": {"uri": "./model.onnx"}}))
    (repository / "settings.json").write_text(json.dumps(
        {"host": "127.0.0.1", "grpc_port": grpc_port, "http_port": free_port(), "metrics_port": free_port()}))
    return repository


def _link(source: Path, target: Path) -> None:
    if not target.exists():
        os.link(source, target)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- load generation -------------------------------------------------------------------------

@dataclass
class Result:
    path: str
    model: str
    concurrency: int
    images_per_s: float
    p50_ms: float
    p95_ms: float
    round: int = 0


def measure(path: str, model: str, make_call, concurrency: int, seconds: float, images_per_call: int = 1) -> Result:
    """Each of `concurrency` threads calls its own `make_call()` in a loop for `seconds`."""
    calls = [make_call() for _ in range(concurrency)]
    for call in calls:
        for _ in range(3):
            call()  # warm-up: loads, connections, first-call allocations
    latencies: list[list[float]] = [[] for _ in calls]
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def loop(index: int) -> None:
        barrier.wait()
        while (now := time.perf_counter()) < deadline[0]:
            calls[index]()
            latencies[index].append(time.perf_counter() - now)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(x for per_thread in latencies for x in per_thread)
    result = Result(path, model, concurrency, len(every) * images_per_call / elapsed,
                    1000 * every[len(every) // 2], 1000 * every[int(len(every) * 0.95)])
    print(f"  {model:18s} {path:28s} c={concurrency}  {result.images_per_s:7.1f} img/s  "
          f"p50 {result.p50_ms:6.2f} ms  p95 {result.p95_ms:6.2f} ms", flush=True)
    return result


def inputs(model_id: str) -> np.ndarray:
    """The one input every path sends: a fixed random tensor [1, 3, 224, 224]."""
    return np.random.default_rng(7).random((1, *SHAPE), dtype=np.float32)


def in_process(model_id: str, concurrency: int, seconds: float, batch: int = 1) -> Result:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1  # as the bioclass ONNX backend does
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(MODELS / "onnx" / f"{model_id}.onnx"), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    x = np.repeat(inputs(model_id), batch, axis=0)
    path = "in-process ORT" + (f" (batch {batch})" if batch > 1 else "")
    return measure(path, model_id, lambda: (lambda: session.run(None, {"input": x})), concurrency, seconds, batch)


def own_api(address: str, model_id: str, concurrency: int, seconds: float, path: str = "bioclass own API") -> Result:
    from bioclass.client import Client

    pixels = np.ascontiguousarray(inputs(model_id)[0].transpose(1, 2, 0))  # yxc: the server lays it out

    def make_call():
        client = Client(address)
        return lambda: client.predict(pixels, model_id, top_k=1)

    return measure(path, _architecture(model_id), make_call, concurrency, seconds)


def oip(address: str, model_id: str, concurrency: int, seconds: float, path: str) -> Result:
    import tritonclient.grpc as tg

    x = inputs(model_id)

    def make_call():
        client = tg.InferenceServerClient(address)
        tensor = tg.InferInput("input", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x)
        wanted = [tg.InferRequestedOutput("probabilities")]
        return lambda: client.infer(model_id, [tensor], outputs=wanted)

    return measure(path, _architecture(model_id), make_call, concurrency, seconds)


def _architecture(model_id: str) -> str:
    """The model a card variant serves (results group by it)."""
    return model_id.removesuffix("-nobatch").removesuffix("-inprocess")


# ---- servers ---------------------------------------------------------------------------------

def start_bioclass(zoo: Path):
    from server_process import ServerProcess

    work = MODELS / "work"
    return ServerProcess("--zoo", str(zoo), "--no-builtin", "--log-level", "WARNING", work_dir=work,
                         env={"BIOCLASS_MAX_BATCH_SIZE": "32"})


def start_mlserver(repository: Path, grpc_port: int) -> subprocess.Popen:
    import tritonclient.grpc as tg

    log = open(MODELS / "mlserver.log", "w")
    process = subprocess.Popen([str(MLSERVER), "start", str(repository)], cwd=repository, stdout=log,
                               stderr=subprocess.STDOUT)
    client = tg.InferenceServerClient(f"127.0.0.1:{grpc_port}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if all(client.is_model_ready(m) for m in ARCHITECTURES):
                return process
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if process.poll() is not None:
            break
        time.sleep(1)
    process.terminate()
    raise RuntimeError(f"MLServer did not start; see {MODELS / 'mlserver.log'}")


def start_floor() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(BENCH / "floor_server.py")], stdout=subprocess.PIPE, text=True)
    return process, f"127.0.0.1:{int(process.stdout.readline())}"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


# The card tuned for latency: the model in the server process, ONNX Runtime's threads spinning.
IN_PROCESS_OWN, IN_PROCESS_OIP = "bioclass own API, in server process", "bioclass OIP, in server process"
FLOOR = "gRPC floor (no model)"


# ---- report ----------------------------------------------------------------------------------

def run(seconds: float, with_mlserver: bool, rounds: int) -> list[Result]:
    """Both servers stay up; each model and concurrency is measured on every path back to back,
    `rounds` times over, so that the ratios compare neighbours even when the machine's load drifts."""
    server = start_bioclass(write_bioclass_zoo())
    floor, floor_address = start_floor()
    mlserver, port = None, free_port()
    try:
        if with_mlserver:
            mlserver = start_mlserver(write_mlserver_repository(port), port)
        results = []
        for model_id in ARCHITECTURES:
            for concurrency in (1, 8):
                for index in range(rounds):
                    print(f"{model_id}, concurrency {concurrency}, round {index + 1} of {rounds}", flush=True)
                    measured = measure_round(server.address, model_id, concurrency, seconds,
                                             f"127.0.0.1:{port}" if mlserver is not None else None,
                                             floor_address if model_id == next(iter(ARCHITECTURES)) else None)
                    results += [replace(result, round=index) for result in measured]
        return results
    finally:
        server.stop()
        stop(floor)
        if mlserver is not None:
            stop(mlserver)


def measure_round(address: str, model_id: str, concurrency: int, seconds: float, mlserver: str | None,
                  floor: str | None) -> list[Result]:
    results = [in_process(model_id, concurrency, seconds)]
    if floor is not None:
        results.append(oip(floor, model_id, concurrency, seconds, FLOOR))
    if concurrency == 8:
        results.append(in_process(model_id, 1, seconds, batch=8))
    results.append(own_api(address, model_id, concurrency, seconds))
    results.append(oip(address, model_id, concurrency, seconds, "bioclass OIP (tritonclient)"))
    results.append(own_api(address, f"{model_id}-inprocess", concurrency, seconds, IN_PROCESS_OWN))
    results.append(oip(address, f"{model_id}-inprocess", concurrency, seconds, IN_PROCESS_OIP))
    if concurrency == 8:
        results.append(oip(address, f"{model_id}-nobatch", 8, seconds, "bioclass OIP, batching off"))
    if mlserver is not None:
        results.append(oip(mlserver, model_id, concurrency, seconds, "MLServer (tritonclient)"))
    return results


def ratios(results: list[Result]) -> list[tuple[str, float, float | None]]:
    """(what, median over rounds of the ratio measured in each round, target or None)."""
    rounds = sorted({r.round for r in results})

    def ratio(model: str, path: str, c: int, base_model: str, base_path: str, base_c: int) -> float:
        per_round = [_rate(results, model, path, c, index) / _rate(results, base_model, base_path, base_c, index)
                     for index in rounds]
        return statistics.median(per_round)

    light, heavy = ARCHITECTURES
    oip_path, own_path = "bioclass OIP (tritonclient)", "bioclass own API"
    mlserver, in_process_path, batch_8, off = ("MLServer (tritonclient)", "in-process ORT", "in-process ORT (batch 8)",
                                               "bioclass OIP, batching off")
    paths = (("OIP", oip_path), ("own API", own_path), ("OIP, model in server process", IN_PROCESS_OIP),
             ("own API, model in server process", IN_PROCESS_OWN))
    rows = []
    for c in (1, 8):
        for name, path in paths:
            rows.append((f"{light}: bioclass {name} / MLServer, c={c}", ratio(light, path, c, light, mlserver, c), 5.0))
    for name, path in paths:
        rows.append((f"{light}: bioclass {name} c=1 / in-process batch 1",
                     ratio(light, path, 1, light, in_process_path, 1), 0.5))
    rows.append((f"{light}: ceiling for any Python gRPC server c=1 / in-process batch 1 (floor + pass)",
                 ceiling(results, light, rounds), None))
    for name, path in (paths[0], paths[2]):
        rows.append((f"{heavy}: bioclass {name} c=8 / in-process c=8", ratio(heavy, path, 8, heavy, in_process_path, 8),
                     0.9))
    rows.append((f"{heavy}: bioclass OIP c=8 / in-process batch 8", ratio(heavy, oip_path, 8, heavy, batch_8, 1), None))
    for model in (light, heavy):
        rows.append((f"{model}: batching on / off, OIP c=8", ratio(model, oip_path, 8, model, off, 8), 1.3))
    return rows


def ceiling(results: list[Result], model: str, rounds: list[int]) -> float:
    """With one client a served call lasts at least the floor's call plus one in-process pass:
    in-process rate x floor rate / (in-process rate + floor rate), relative to the in-process rate."""
    per_round = []
    for index in rounds:
        floor, alone = _rate(results, model, FLOOR, 1, index), _rate(results, model, "in-process ORT", 1, index)
        per_round.append(floor / (floor + alone))
    return statistics.median(per_round)


def _rate(results: list[Result], model: str, path: str, c: int, index: int) -> float:
    return next((r.images_per_s for r in results
                 if (r.model, r.path, r.concurrency, r.round) == (model, path, c, index)), float("nan"))


def summary(results: list[Result]) -> list[Result]:
    """One row per model, path and concurrency: the median of each figure over the rounds."""
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.model, r.path, r.concurrency), []).append(r)
    return [Result(*key, *(statistics.median(getattr(r, name) for r in group)
                           for name in ("images_per_s", "p50_ms", "p95_ms")))
            for key, group in groups.items()]


def markdown(results: list[Result], rows, seconds: float, rounds: int, load: str) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
             f"{rounds} rounds of {seconds:.0f} s per measurement (medians over the rounds; each ratio is "
             f"the median of the ratios measured within one round), load average before the run: {load}.", "",
             "| model | path | concurrency | img/s | p50 ms | p95 ms |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r.model} | {r.path} | {r.concurrency} | {r.images_per_s:.1f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} |"
              for r in summary(results)]
    lines += ["", "| ratio | measured | target |", "|---|---:|---:|"]
    lines += [f"| {what} | {value:.2f} | {'' if target is None else ('>= %.1f ' % target) + ('met' if value >= target else 'MISSED')} |"
              for what, value, target in rows]
    return "\n".join(lines) + "\n"


def write_readme(table: str) -> None:
    readme = BENCH / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n\n<!-- results -->\n<!-- /results -->\n"
    block = f"<!-- results -->\n{table}<!-- /results -->"
    readme.write_text(re.sub(r"<!-- results -->.*<!-- /results -->", lambda _: block, text, flags=re.S))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round of 3 s per measurement (default)")
    parser.add_argument("--full", action="store_true", help="3 rounds of 5 s per measurement; records bench/README.md")
    parser.add_argument("--rounds", type=int, help="rounds per model and concurrency (overrides --quick/--full)")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (overrides --quick/--full)")
    parser.add_argument("--no-mlserver", action="store_true", help="skip MLServer (no bench/.venv-mlserver)")
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("--tuned-clients", action="store_true",
                        help="run the clients (and MLServer) with glibc's allocator tuned as the bioclass server tunes "
                             "its own (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_); does not touch bench/README.md")
    args = parser.parse_args()
    from bioclass.server import allocator

    tuned = allocator.environment()  # what the server does with mallopt, for the clients and MLServer
    if args.tuned_clients and tuned.items() - os.environ.items():
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **tuned})  # glibc reads them at start
    seconds = args.seconds or (5.0 if args.full else 3.0)
    rounds = args.rounds or (3 if args.full else 1)
    if not args.no_mlserver and not MLSERVER.exists():
        parser.error("MLServer is not installed: run bench/setup_mlserver.sh (or pass --no-mlserver)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    subprocess.run([sys.executable, "-c", "import serving; serving.export_models()"], cwd=BENCH, check=True)
    results = run(seconds, not args.no_mlserver, rounds)
    rows = ratios(results)
    table = markdown(results, rows, seconds, rounds, load)
    print("\n" + table)
    if (args.full or args.write) and not args.tuned_clients:
        write_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
