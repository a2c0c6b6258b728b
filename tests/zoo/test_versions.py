"""Model versions: id@N through the Python client, the CLI and tritonclient; a default version kept across
restarts; a registration killed half-way leaves the earlier versions served."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import tritonclient.grpc as triton_grpc
import yaml
from PIL import Image

from bioclass.client import Client
from bioclass.errors import AlreadyExists, InvalidArgument, NotFound
from models import solid_image
from server_process import ServerProcess

MODEL = "versioned"


def card(test_zoo, source: str = "brightness-onnx", swapped: bool = False) -> str:
    """The source model's card under MODEL; `swapped` lists its labels the other way round, so that
    version answers 'dark' for a bright image and the version that answered is plain to see."""
    values = yaml.safe_load((test_zoo / source / "card.yaml").read_text())
    values["id"] = MODEL
    if swapped:
        values["output"]["labels"] = list(reversed(values["output"]["labels"]))
    return yaml.safe_dump(values)


def cli(server: ServerProcess, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "bioclass.cli.main", *args, "--server", server.address],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def triton_label(triton, version: str) -> str:
    image = solid_image(0.9, 24)[None]
    tensor = triton_grpc.InferInput("image", list(image.shape), "UINT8")
    tensor.set_data_from_numpy(image)
    result = triton.infer(MODEL, [tensor], model_version=version)
    return result.as_numpy("label")[0].decode()


def labelled_folder(root):
    """Two bright and two dark images, a class per folder."""
    for label, value in (("bright", 0.9), ("dark", 0.1)):
        (root / label).mkdir(parents=True)
        for index in range(2):
            Image.fromarray(solid_image(value + index * 0.05 - 0.025)).save(root / label / f"{index}.png")
    return root


def test_versions_through_every_client_and_a_restart(test_zoo, tmp_path):
    weights = test_zoo / "brightness-onnx" / "model.onnx"
    server = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            first = client.register_model(card(test_zoo), weights)
            assert (first.version, first.is_default, list(first.versions)) == (1, True, [1])
            with pytest.raises(AlreadyExists, match="new_version"):
                client.register_model(card(test_zoo), weights)
            second = client.register_model(card(test_zoo, swapped=True), weights, new_version=True)
            assert (second.version, second.is_default, list(second.versions)) == (2, True, [1, 2])
            assert client.predict(solid_image(0.9), MODEL).label == "dark"  # the newest is the default
            assert client.predict(solid_image(0.9), f"{MODEL}@1").label == "bright"
            assert client.predict(solid_image(0.9), f"{MODEL}@2").label == "dark"
            with pytest.raises(NotFound, match="no version 7"):
                client.predict(solid_image(0.9), f"{MODEL}@7")
            with pytest.raises(InvalidArgument, match="a version is a number"):
                client.predict(solid_image(0.9), f"{MODEL}@two")
            compared = client.evaluate(labelled_folder(tmp_path / "dataset"), [f"{MODEL}@1", f"{MODEL}@2"])
            assert [(e.model_id, e.accuracy) for e in compared.evaluations] == [(f"{MODEL}@1", 1.0),
                                                                                 (f"{MODEL}@2", 0.0)]

        (tmp_path / "v3.yaml").write_text(card(test_zoo))
        registered = cli(server, "register", "--new-version", str(tmp_path / "v3.yaml"), str(weights))
        assert f"registered {MODEL}@3" in registered
        listing = cli(server, "models", "--versions")
        assert f"{MODEL}@1" in listing and f"{MODEL}@2" in listing and f"{MODEL}@3 (default)" in listing
        assert "MEMORY" in listing and "LAST USE" in listing
        assert "now names versioned@2" in cli(server, "default-version", MODEL, "2")
        with Client(server.address) as client:
            with pytest.raises(NotFound, match="unknown model 'nothing'"):
                client.set_default_version("nothing", 1)
            with pytest.raises(NotFound, match="no version 9"):
                client.set_default_version(MODEL, 9)
            with pytest.raises(InvalidArgument, match="a version from 1"):
                client.set_default_version(MODEL, 0)

        triton = triton_grpc.InferenceServerClient(server.address)
        assert triton.get_model_metadata(MODEL).versions == ["1", "2", "3"]
        assert [triton_label(triton, v) for v in ("1", "2", "3", "")] == ["bright", "dark", "bright", "dark"]
        assert triton.is_model_ready(MODEL, "3")
        index = {(m.name, m.version) for m in triton.get_model_repository_index().models}
        assert {(MODEL, "1"), (MODEL, "2"), (MODEL, "3")} <= index
        triton.close()
    finally:
        server.stop()

    restarted = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(restarted.address) as client:
            assert [(m.version, m.is_default) for m in client.models(versions=True)] == [(1, False), (2, True),
                                                                                         (3, False)]
            assert client.predict(solid_image(0.9), MODEL).label == "dark"  # the default chosen before
            assert [m.id for m in client.models()] == [MODEL]
    finally:
        restarted.stop()


def test_a_registration_killed_half_way_keeps_the_old_versions(test_zoo, tmp_path):
    """The server is killed while it checks that a new version loads (a PyTorch model: seconds); the
    restarted server serves version 1 as before and nothing of version 2."""
    store = tmp_path / "models"
    server = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            client.register_model(card(test_zoo), test_zoo / "brightness-onnx" / "model.onnx")

        def register_torch_version():
            with Client(server.address) as client:
                try:
                    client.register_model(card(test_zoo, "brightness-pytorch"),
                                          test_zoo / "brightness-pytorch" / "model.pt", new_version=True)
                except Exception:  # noqa: BLE001 - the server is killed under it
                    pass

        upload = threading.Thread(target=register_torch_version)
        upload.start()
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".upload-") and (p / "model.pt").exists() for p in store.iterdir()):
            assert time.monotonic() < deadline, "the upload never reached its staging folder"
            time.sleep(0.01)
        os.kill(server.process.pid, signal.SIGKILL)
        upload.join(30)
    finally:
        server.stop()
    restarted = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(restarted.address) as client:
            assert [(m.version, m.framework) for m in client.models(versions=True)] == [(1, "onnx")]
            assert client.predict(solid_image(0.9), MODEL).label == "bright"
        assert sorted(p.name for p in store.iterdir()) == [MODEL]
    finally:
        restarted.stop()
