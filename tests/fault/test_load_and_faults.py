"""Load and fault tests (loopback only, bounded in time): concurrent clients, killed model
processes, deadlines. Figures are printed with pytest -s."""
import os
import signal
import threading
import time
from pathlib import Path

import grpc
import pytest

from bioclass.client import Client
from bioclass.errors import BioclassError
from paths import SAMPLES
from models import solid_image
from server_process import ServerProcess

LOAD_SECONDS = float(os.environ.get("BIOCLASS_LOAD_SECONDS", "30"))
CLIENTS = 32


def process_tree(pid: int) -> list[int]:
    # Children are listed under the thread that started them (model processes start in worker threads).
    children = [c for task in Path(f"/proc/{pid}/task").glob("*/children") for c in task.read_text().split()]
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def resident_mb(pid: int) -> float:
    total = 0
    for process in process_tree(pid):
        try:
            for line in Path(f"/proc/{process}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def test_32_clients_of_mixed_predictions(server):
    sample = next((SAMPLES / "malaria").glob("Parasitized_*.png"))
    white, black = solid_image(0.9), solid_image(0.1)
    errors, counts = [], [0] * CLIENTS

    def worker(index: int, deadline: float) -> None:
        with Client(server.address) as client:
            while time.monotonic() < deadline:
                try:
                    kind = (index + counts[index]) % 4
                    if kind == 0:
                        ok = client.predict(white, "brightness-onnx").label == "bright"
                    elif kind == 1:
                        ok = client.predict(black, "brightness-pytorch").label == "dark"
                    elif kind == 2:
                        ok = client.predict(sample, "malaria-cnn-onnx").label == "Parasitized"
                    else:
                        ok = [p.label for p in client.predict_many([white, black], "brightness-onnx")] == \
                            ["bright", "dark"]
                    if not ok:
                        errors.append("wrong answer")
                except BioclassError as exc:
                    errors.append(f"{exc.code.name}: {exc}")
                counts[index] += 1

    def run(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=worker, args=(i, deadline)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run(5)  # warm-up: every model loaded, pools grown
    before, warm_requests = resident_mb(server.process.pid), sum(counts)
    started = time.monotonic()
    run(LOAD_SECONDS)
    elapsed = time.monotonic() - started
    after = resident_mb(server.process.pid)
    requests = sum(counts) - warm_requests
    print(f"\n{CLIENTS} clients, {elapsed:.0f} s: {requests} requests ({requests / elapsed:.0f}/s), "
          f"{len(errors)} errors, resident memory {before:.0f} -> {after:.0f} MB ({(after / before - 1) * 100:+.1f} %)")
    assert errors == []
    assert after < before * 1.10
    assert server.alive()


def test_killed_model_process_is_restarted_without_failing_calls(test_zoo, tmp_path):
    """Its own server, so the killed process is surely the one model it loaded."""
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            for round_ in range(2):
                assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
                model_processes = [p for p in process_tree(server.process.pid)[1:]
                                   if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
                assert len(model_processes) == 1
                os.kill(model_processes[0], signal.SIGKILL)
                time.sleep(0.3)
                # The call that meets the dead process gets a new one and its answer.
                assert client.predict(solid_image(0.1), "brightness-onnx").label == "dark"
        assert server.alive() and "its process died; it is restarted" in server.log
    finally:
        server.stop()


def test_deadline_is_honoured_and_server_keeps_serving(server):
    from bioclass.v1 import classifier_pb2 as pb
    from bioclass.v1 import classifier_pb2_grpc
    from bioclass.images import to_image

    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        request = pb.PredictRequest(model_id="malaria-cnn-keras", image=to_image(solid_image(0.5, size=2000)))
        with pytest.raises(grpc.RpcError) as error:
            stub.Predict(request, timeout=0.001)
        assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    with Client(server.address) as client:
        assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
