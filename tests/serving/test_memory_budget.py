"""The memory budget: 20 PyTorch models on a server whose budget fits about 5 of them; idle models are
unloaded least recently used first, busy and pinned ones never, and an unloaded one loads on its next call."""
import io
import os
import shutil
import signal
import threading
import time

import pytest
import yaml
from PIL import Image

from bioclass.client import Client
from bioclass.server.lifecycle import descendants, tree_resident_bytes
from bioclass.server.session import ModelSession
from bioclass.v1 import classifier_pb2 as pb
from models import solid_image
from server_process import ServerProcess

MiB = 1024 * 1024
SERVER_ALLOWANCE = 250 * MiB  # the server process, its resource tracker and gRPC's buffers


@pytest.fixture(scope="module")
def torch_zoo(test_zoo, tmp_path_factory):
    """20 copies of the TorchScript brightness net under their own ids (model-00 ... model-19)."""
    zoo = tmp_path_factory.mktemp("budget-zoo")
    for index in range(20):
        folder = zoo / f"model-{index:02d}"
        shutil.copytree(test_zoo / "brightness-pytorch", folder)
        card = yaml.safe_load((folder / "card.yaml").read_text())
        card["id"] = folder.name
        if index == 19:
            card["serving"] = {"pinned": True}
        (folder / "card.yaml").write_text(yaml.safe_dump(card))
    return zoo


@pytest.fixture(scope="module")
def model_bytes(torch_zoo) -> int:
    """Resident memory of one PyTorch model process on this machine, as the server will measure it."""
    session = ModelSession(torch_zoo / "model-00", 1)
    try:
        return tree_resident_bytes(session.process.pid)
    finally:
        session.close()


def start(torch_zoo, tmp_path, budget: int) -> ServerProcess:
    return ServerProcess("--zoo", str(torch_zoo), "--no-builtin", "--inference-threads", "1",
                         "--memory-budget", str(budget // MiB), work_dir=tmp_path)


class PeakMemory:
    """The largest resident memory of a process and every process under it, sampled every 50 ms."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, tree_resident_bytes(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def states(client: Client) -> dict[str, pb.ModelSummary]:
    return {m.id: m for m in client.models()}


def test_twenty_models_in_a_budget_of_five(torch_zoo, model_bytes, tmp_path):
    budget = SERVER_ALLOWANCE + int(5.5 * model_bytes)
    server = start(torch_zoo, tmp_path, budget)
    peak = PeakMemory(server.process.pid)
    try:
        with Client(server.address) as client:
            for index in range(20):
                for value in (0.9, 0.1):
                    expected = "bright" if value > 0.5 else "dark"
                    assert client.predict(solid_image(value), f"model-{index:02d}").label == expected
            models = states(client)
            loaded = [m for m in models.values() if m.state == pb.LOADED]
            assert 2 <= len(loaded) <= 6, [(m.id, pb.ModelState.Name(m.state)) for m in models.values()]
            assert models["model-19"].state == pb.LOADED and models["model-19"].usage.pinned
            assert models["model-00"].state == pb.UNLOADED and models["model-00"].usage.memory_bytes == 0
            assert all(m.usage.memory_bytes > 10 * MiB and m.usage.last_used > 0 for m in loaded)
            # the pinned model, used before the others, was never unloaded; model-00 loads again
            assert client.predict(solid_image(0.9), "model-00").label == "bright"
            assert states(client)["model-00"].state == pb.LOADED
            assert states(client)["model-19"].state == pb.LOADED
    finally:
        used = peak.stop()
        server.stop()
    assert used <= 1.1 * budget, f"peak {used / MiB:.0f} MiB, budget {budget / MiB:.0f} MiB"
    assert "memory budget: unloading model-00" in server.log


def test_a_busy_model_is_never_unloaded(torch_zoo, model_bytes, tmp_path):
    """A budget for one model: while model-01 has a request in flight (and answers a stream of calls),
    loading model-02 goes over the budget rather than stopping it; once model-01 is idle, the next load
    stops it."""
    server = start(torch_zoo, tmp_path, SERVER_ALLOWANCE + int(1.5 * model_bytes))
    stop, answers, failures = threading.Event(), [], []

    def keep_busy():
        with Client(server.address) as client:
            while not stop.is_set():
                try:
                    answers.append(client.predict(solid_image(0.9), "model-01").label)
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    failures.append(exc)

    try:
        with Client(server.address) as client:
            client.predict(solid_image(0.9), "model-01")
            # Callers alone leave moments with nothing in flight (every caller between an answer and its next
            # call), so one request is held open: a tiled prediction whose upload stops half-way.
            held = HalfSentUpload(client, "model-01")
            busy = [threading.Thread(target=keep_busy) for _ in range(3)]
            for thread in busy:
                thread.start()
            try:
                deadline = time.monotonic() + 60
                while (len(answers) < 6 or states(client)["model-01"].usage.in_flight < 1) and not failures \
                        and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert client.predict(solid_image(0.1), "model-02").label == "dark"
                assert states(client)["model-01"].state == pb.LOADED
            finally:
                stop.set()
                for thread in busy:
                    thread.join()
                held.finish()
            assert held.labels() == ["bright"], "the held request was answered by model-01"
            time.sleep(0.1)
            assert client.predict(solid_image(0.1), "model-03").label == "dark"
            after = states(client)
            assert after["model-01"].state == pb.UNLOADED and after["model-03"].state == pb.LOADED
    finally:
        server.stop()
    assert not failures and answers and set(answers) == {"bright"}
    assert "every loaded model is busy or pinned" in server.log


def test_a_model_restarted_after_a_crash_makes_room_like_any_load(torch_zoo, model_bytes, tmp_path):
    """A budget for one model: model-01's process is killed and model-02 loads in the room it left; the call
    that restarts model-01 unloads the idle model-02 first instead of loading over the budget."""
    server = start(torch_zoo, tmp_path, SERVER_ALLOWANCE + int(1.5 * model_bytes))
    try:
        with Client(server.address) as client:
            assert client.predict(solid_image(0.9), "model-01").label == "bright"
            (process,) = model_processes(server.process.pid)
            os.kill(process, signal.SIGKILL)
            time.sleep(0.3)
            assert client.predict(solid_image(0.1), "model-02").label == "dark"
            assert states(client)["model-02"].state == pb.LOADED
            # The call that meets model-01's dead process restarts it and gets its answer.
            assert client.predict(solid_image(0.9), "model-01").label == "bright"
            after = states(client)
            assert after["model-01"].state == pb.LOADED and after["model-02"].state == pb.UNLOADED
            assert len(model_processes(server.process.pid)) == 1
    finally:
        server.stop()
    assert "its process died; it is restarted" in server.log
    assert "memory budget: unloading model-02" in server.log and "to make room for model-01" in server.log


def test_a_grad_cam_process_is_unloaded_to_make_room(torch_zoo, model_bytes, tmp_path):
    """A budget for two and a half models: explaining model-01 starts its Grad-CAM process beside its model
    process (the brightness net has no convolutions, so the map falls back to occlusion and the process
    stays); loading model-02 then stops that Grad-CAM process, the least recently used, not model-01."""
    server = start(torch_zoo, tmp_path, SERVER_ALLOWANCE + int(2.5 * model_bytes))
    try:
        with Client(server.address) as client:
            assert client.explain(solid_image(0.9), "model-01").method == "occlusion"
            assert len(model_processes(server.process.pid)) == 2  # model-01's and its Grad-CAM process
            assert client.predict(solid_image(0.1), "model-02").label == "dark"
            models = states(client)
            assert models["model-01"].state == pb.LOADED and models["model-02"].state == pb.LOADED
            assert len(model_processes(server.process.pid)) == 2
            assert client.explain(solid_image(0.1), "model-02").method == "occlusion"  # starts within the budget
    finally:
        server.stop()
    assert "memory budget: unloading Grad-CAM of model-01@1" in server.log


def model_processes(server_pid: int) -> list[int]:
    """The model processes under the server (multiprocessing's spawned children; its resource tracker is not one)."""
    found = []
    for pid in descendants(server_pid):
        try:
            if b"spawn_main" in open(f"/proc/{pid}/cmdline", "rb").read():
                found.append(pid)
        except OSError:  # it ended meanwhile
            pass
    return found


class HalfSentUpload:
    """A PredictTiles call whose image upload stops after its first chunk until `finish()`: a request that
    stays in flight for as long as the test needs."""

    def __init__(self, client: Client, model_id: str):
        data = png_bytes(solid_image(0.9))
        header = pb.PredictTilesHeader(model_id=model_id, upload=pb.FileUpload(size=len(data)))
        self._release = threading.Event()

        def requests():
            yield pb.PredictTilesRequest(header=header)
            yield pb.PredictTilesRequest(chunk=data[:1])
            self._release.wait(120)
            yield pb.PredictTilesRequest(chunk=data[1:])

        self._answers = client._stub.PredictTiles(requests(), timeout=180)

    def finish(self) -> None:
        self._release.set()

    def labels(self) -> list[str]:
        return [a.summary.prediction.top[0].label for a in self._answers if a.HasField("summary")]


def png_bytes(pixels) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
