"""Crash-safe registration: what kill -9 leaves in the store (a staging folder, a retired model) never
takes a model's place; the model served before an interrupted overwrite is served after the restart."""
import os
import shutil
import signal
import threading
import time

from bioclass.client import Client
from models import solid_image
from server_process import ServerProcess


def card_for(test_zoo, model_id: str, name: str) -> str:
    return (test_zoo / "brightness-onnx" / "card.yaml").read_text().replace("brightness-onnx", model_id) \
        .replace("Brightness (onnx)", name)


def register_then_kill(test_zoo, work, model_id: str) -> None:
    """Serve `model_id` as "good", then kill -9 the server (the tests then lay out what a crash leaves)."""
    server = ServerProcess("--no-builtin", work_dir=work)
    try:
        with Client(server.address) as client:
            client.register_model(card_for(test_zoo, model_id, "good"), test_zoo / "brightness-onnx" / "model.onnx")
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()


def served(work) -> tuple[dict[str, str], str]:
    """The served models' names by id, and the server's log, after a restart."""
    server = ServerProcess("--no-builtin", work_dir=work)
    try:
        with Client(server.address) as client:
            names = {m.id: m.name for m in client.models()}
            assert client.predict(solid_image(0.9), "m").label == "bright"
        return names, server.log
    finally:
        server.stop()


def leave_staging(store, model_id: str, name: str, test_zoo) -> None:
    """A staging folder as a crash leaves it: hidden, sorting before the model, a valid card of the same id."""
    staging = store / f".upload-{model_id}-k9x2"
    staging.mkdir()
    (staging / "card.yaml").write_text(card_for(test_zoo, model_id, name))
    shutil.copy(test_zoo / "brightness-onnx" / "model.onnx", staging / "model.onnx")


def test_a_staging_folder_is_never_served_and_is_removed(test_zoo, tmp_path):
    register_then_kill(test_zoo, tmp_path, "m")
    leave_staging(tmp_path / "models", "m", "half-written", test_zoo)
    names, log = served(tmp_path)
    assert names == {"m": "good"}
    assert "(1 models, 0 zoo problems)" in log
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["m"]


def test_the_model_retired_by_an_interrupted_overwrite_comes_back(test_zoo, tmp_path):
    register_then_kill(test_zoo, tmp_path, "m")
    store = tmp_path / "models"
    os.replace(store / "m", store / ".retired-m-4242")  # the crash fell between the two renames
    leave_staging(store, "m", "unvalidated", test_zoo)
    names, log = served(tmp_path)
    assert names == {"m": "good"}
    assert "restored m, retired by a registration that did not finish" in log
    assert sorted(p.name for p in store.iterdir()) == ["m"]


def test_kill_during_an_overwrite_keeps_the_old_model(test_zoo, tmp_path):
    """A real kill -9 while the overwrite's upload is being checked (its staging folder exists)."""
    server = ServerProcess("--no-builtin", work_dir=tmp_path)
    store = tmp_path / "models"
    try:
        with Client(server.address) as client:
            client.register_model(card_for(test_zoo, "m", "good"), test_zoo / "brightness-onnx" / "model.onnx")
            big = tmp_path / "model.onnx"
            big.write_bytes((test_zoo / "brightness-onnx" / "model.onnx").read_bytes() + b"\0" * 50_000_000)
            overwrite = threading.Thread(target=_quietly, args=(client.register_model, card_for(test_zoo, "m", "new"),
                                                                 big), kwargs={"overwrite": True}, daemon=True)
            overwrite.start()
            deadline = time.monotonic() + 60
            while not list(store.glob(".upload-m-*")) and time.monotonic() < deadline:
                time.sleep(0.005)
            assert list(store.glob(".upload-m-*"))
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            overwrite.join(30)
    finally:
        server.stop()
    names, _ = served(tmp_path)
    assert names == {"m": "good"}
    assert sorted(p.name for p in store.iterdir()) == ["m"]


def test_an_interrupted_dataset_upload_leaves_nothing(tmp_path):
    (tmp_path / "datasets" / ".upload-x1y2").mkdir(parents=True)
    (tmp_path / "datasets" / ".upload-x1y2" / "archive.zip").write_bytes(b"partial")
    server = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            assert list(client.training.datasets()) == []
        assert list((tmp_path / "datasets").iterdir()) == []
    finally:
        server.stop()


def _quietly(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the server is killed under this call
        pass
