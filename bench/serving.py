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

Beside them, bench/bare_server.py, called the same way: the transport floor (an OIP server that
answers without a model) and a bare Python server running the light model with nothing around
it (the pass inline or in a thread for one client; batching on and off for eight). They show
what any Python gRPC server can reach on the machine.

    --cores 0-1:2-3   servers (and their model processes) on cores 0-1, clients and the in-process
                      baseline on 2-3: as if the clients ran on another machine
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
ARCHITECTURES = {"mobilenetv3-small": "mobilenetv3_small_100", "resnet18": "resnet18"}  # --models narrows it
LIGHT, HEAVY = ARCHITECTURES
SHAPE = (3, 224, 224)
CLASSES = 10
sys.path.insert(0, str(ROOT / "tests"))


# ---- models ----------------------------------------------------------------------------------

def export_models(model_ids=ARCHITECTURES) -> None:
    """timm networks (random weights) exported to ONNX with a dynamic batch axis; cached."""
    import timm
    import torch

    for model_id in model_ids:
        architecture = ARCHITECTURES[model_id]
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

    from bioclass.server.backends.onnx import session_options
    from bioclass.server.settings import usable_cores

    options = session_options(usable_cores(), spinning=True)  # as bioclass runs ONNX, with ONNX Runtime's spinning
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


def start_bare(mode: str, model_id: str) -> tuple[subprocess.Popen, str]:
    model = [] if mode == "floor" else [str(MODELS / "onnx" / f"{model_id}.onnx")]
    process = subprocess.Popen([sys.executable, str(BENCH / "bare_server.py"), mode, *model], stdout=subprocess.PIPE,
                               text=True)
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
BARE = {"inline": "bare Python server, pass inline", "thread": "bare Python server, pass in a thread",
        "batched": "bare Python server, batching on", "unbatched": "bare Python server, batching off"}
BARE_CONCURRENCIES = {"floor": (1, 8), "inline": (1,), "thread": (1,), "batched": (8,), "unbatched": (8,)}


# ---- report ----------------------------------------------------------------------------------

def run(seconds: float, with_mlserver: bool, rounds: int, cores: tuple[set[int], set[int]] | None) -> list[Result]:
    """All servers stay up; each model and concurrency is measured on every path back to back,
    `rounds` times over, so that the ratios compare neighbours even when the machine's load drifts."""
    if cores:
        os.sched_setaffinity(0, cores[0])  # the servers inherit it
    server = start_bioclass(write_bioclass_zoo())
    bare = {mode: start_bare(mode, LIGHT) for mode in ("floor", *BARE)} if LIGHT in ARCHITECTURES else {}
    mlserver, port = None, free_port()
    try:
        if with_mlserver:
            mlserver = start_mlserver(write_mlserver_repository(port), port)
        if cores:
            os.sched_setaffinity(0, cores[1])
        results = []
        for model_id in ARCHITECTURES:
            for concurrency in (1, 8):
                for index in range(rounds):
                    print(f"{model_id}, concurrency {concurrency}, round {index + 1} of {rounds}", flush=True)
                    measured = measure_round(server.address, model_id, concurrency, seconds,
                                             f"127.0.0.1:{port}" if mlserver is not None else None,
                                             {m: address for m, (_, address) in bare.items()} if model_id == LIGHT else {})
                    results += [replace(result, round=index) for result in measured]
        return results
    finally:
        server.stop()
        for process, _ in bare.values():
            stop(process)
        if mlserver is not None:
            stop(mlserver)


def measure_round(address: str, model_id: str, concurrency: int, seconds: float, mlserver: str | None,
                  bare: dict[str, str]) -> list[Result]:
    """`bare`: the bare servers' addresses by mode (bench/bare_server.py), empty for models they skip."""
    results = [in_process(model_id, concurrency, seconds)]
    for mode in bare:
        if concurrency in BARE_CONCURRENCIES[mode]:
            results.append(oip(bare[mode], model_id, concurrency, seconds, BARE.get(mode, FLOOR)))
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

    oip_path, own_path = "bioclass OIP (tritonclient)", "bioclass own API"
    mlserver, in_process_path, batch_8, off = ("MLServer (tritonclient)", "in-process ORT", "in-process ORT (batch 8)",
                                               "bioclass OIP, batching off")
    paths = (("OIP", oip_path), ("own API", own_path), ("OIP, model in server process", IN_PROCESS_OIP),
             ("own API, model in server process", IN_PROCESS_OWN))
    rows = []
    for c in (1, 8):
        for name, path in paths:
            rows.append((f"{LIGHT}: bioclass {name} / MLServer, c={c}", ratio(LIGHT, path, c, LIGHT, mlserver, c), 5.0))
    for name, path in paths:
        rows.append((f"{LIGHT}: bioclass {name} c=1 / in-process batch 1",
                     ratio(LIGHT, path, 1, LIGHT, in_process_path, 1), 0.5))
    for mode in ("inline", "thread"):
        rows.append((f"{LIGHT}: {BARE[mode]} c=1 / in-process batch 1",
                     ratio(LIGHT, BARE[mode], 1, LIGHT, in_process_path, 1), None))
    for name, path in (paths[0], paths[2]):  # issue 19: the model process's hop against a bare Python server
        rows.append((f"{LIGHT}: bioclass {name} / {BARE['thread']}, c=1", ratio(LIGHT, path, 1, LIGHT, BARE["thread"], 1),
                     0.85))
        rows.append((f"{LIGHT}: bioclass {name} / {BARE['batched']}, c=8",
                     ratio(LIGHT, path, 8, LIGHT, BARE["batched"], 8), 0.95))
    for name, path in (paths[0], paths[2]):
        rows.append((f"{HEAVY}: bioclass {name} c=8 / in-process c=8", ratio(HEAVY, path, 8, HEAVY, in_process_path, 8),
                     0.9))
    rows.append((f"{HEAVY}: bioclass OIP c=8 / in-process batch 8", ratio(HEAVY, oip_path, 8, HEAVY, batch_8, 1), None))
    for model in (LIGHT, HEAVY):
        rows.append((f"{model}: batching on / off, OIP c=8", ratio(model, oip_path, 8, model, off, 8), 1.3))
    rows.append((f"{LIGHT}: bare Python server, batching on / off, c=8",
                 ratio(LIGHT, BARE["batched"], 8, LIGHT, BARE["unbatched"], 8), None))
    return rows


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


def markdown(results: list[Result], rows, seconds: float, rounds: int, load: str, machine: str) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}, "
             f"{rounds} rounds of {seconds:.0f} s per measurement (medians over the rounds; each ratio is "
             f"the median of the ratios measured within one round), load average before the run: {load}.", "",
             "| model | path | concurrency | img/s | p50 ms | p95 ms |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r.model} | {r.path} | {r.concurrency} | {r.images_per_s:.1f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} |"
              for r in summary(results)]
    lines += ["", "| ratio | measured | target |", "|---|---:|---:|"]
    lines += [f"| {what} | {value:.2f} | {'' if target is None else ('>= %g ' % target) + ('met' if value >= target else 'MISSED')} |"
              for what, value, target in rows if value == value]  # NaN: a path or model this run skipped
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
    parser.add_argument("--models", nargs="+", choices=list(ARCHITECTURES), default=list(ARCHITECTURES),
                        help="measure only these models; printed only")
    parser.add_argument("--cores", type=_core_split, metavar="SERVERS:CLIENTS",
                        help="pin the servers to one set of cores and the clients and in-process baseline to another, "
                             "e.g. 0-1:2-3; printed only")
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
    for model_id in set(ARCHITECTURES) - set(args.models):
        del ARCHITECTURES[model_id]
    subprocess.run([sys.executable, "-c", f"import serving; serving.export_models({args.models!r})"], cwd=BENCH,
                   check=True)
    results = run(seconds, not args.no_mlserver, rounds, args.cores)
    rows = ratios(results)
    machine = (f"servers on cores {_cores_text(args.cores[0])}, clients on {_cores_text(args.cores[1])}"
               if args.cores else f"{len(os.sched_getaffinity(0))} cores")
    table = markdown(results, rows, seconds, rounds, load, machine)
    print("\n" + table)
    printed_only = args.tuned_clients or args.cores or set(args.models) != {LIGHT, HEAVY}
    if (args.full or args.write) and not printed_only:
        write_readme(table)
    return 0


def _core_split(text: str) -> tuple[set[int], set[int]]:
    """"0-1:2-3" -> ({0, 1}, {2, 3})."""
    def cores(part: str) -> set[int]:
        found = set()
        for item in part.split(","):
            first, _, last = item.partition("-")
            found |= set(range(int(first), int(last or first) + 1))
        return found

    servers, _, clients = text.partition(":")
    try:
        split = cores(servers), cores(clients)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SERVERS:CLIENTS such as 0-1:2-3; got {text!r}") from None
    if split[0] & split[1]:
        raise argparse.ArgumentTypeError("the servers' and the clients' cores overlap")
    return split


def _cores_text(cores: set[int]) -> str:
    return ",".join(map(str, sorted(cores)))


if __name__ == "__main__":
    sys.exit(main())
