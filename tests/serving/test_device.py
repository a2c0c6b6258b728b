"""A card's device: auto falls back to the CPU with its reason where no CUDA device is seen (this suite runs
without a GPU), cpu is plain CPU, an explicit CUDA device that is not there fails to load with the reason,
and a value that is no device is refused with INVALID_ARGUMENT, in a card and in a training request."""
import shutil

import pytest
import yaml

from bioclass.client import Client
from bioclass.errors import FailedPrecondition, InvalidArgument
from bioclass.v1 import classifier_pb2 as pb
from models import solid_image
from server_process import ServerProcess

# model id -> (test zoo model it copies, its card's device)
DEVICES = {"onnx-auto": ("brightness-onnx", "auto"), "onnx-cpu": ("brightness-onnx", "cpu"),
           "onnx-cuda1": ("brightness-onnx", "cuda:1"), "torch-auto": ("brightness-pytorch", "auto"),
           "torch-cuda": ("brightness-pytorch", "cuda"), "bad-device": ("brightness-onnx", "gpu")}


def card_text(test_zoo, source: str, model_id: str, device) -> str:
    values = yaml.safe_load((test_zoo / source / "card.yaml").read_text())
    return yaml.safe_dump({**values, "id": model_id, "device": device})


@pytest.fixture(scope="module")
def device_server(test_zoo, tmp_path_factory):
    zoo = tmp_path_factory.mktemp("device-zoo")
    for model_id, (source, device) in DEVICES.items():
        shutil.copytree(test_zoo / source, zoo / model_id)
        (zoo / model_id / "card.yaml").write_text(card_text(test_zoo, source, model_id, device))
    server = ServerProcess("--zoo", str(zoo), "--no-builtin", "--inference-threads", "1",
                           "--data-root", str(zoo), work_dir=tmp_path_factory.mktemp("device-work"))
    server.zoo = zoo
    yield server
    server.stop()


def test_auto_and_cpu_run_on_the_cpu_with_the_reason(device_server):
    with Client(device_server.address) as client:
        for model_id in ("onnx-auto", "onnx-cpu", "torch-auto"):
            assert client.predict(solid_image(0.9), model_id).label == "bright"
        usage = {m.id: m.usage.device for m in client.models()}
        assert client.model("onnx-auto").device == "auto"
    assert usage["onnx-cpu"] == "cpu"
    assert usage["onnx-auto"] == "cpu (device auto: ONNX Runtime has no CUDAExecutionProvider, running on the CPU)"
    assert usage["torch-auto"] == "cpu (device auto: torch sees no CUDA device, running on the CPU)"
    assert "loaded torch-auto@1 (pytorch) on cpu (device auto: torch sees no CUDA device" in device_server.log


def test_an_absent_cuda_device_fails_to_load_with_the_reason(device_server):
    with Client(device_server.address) as client:
        with pytest.raises(FailedPrecondition, match=r"device cuda:1: ONNX Runtime sees 0 CUDA device\(s\)"):
            client.predict(solid_image(0.9), "onnx-cuda1")
        with pytest.raises(FailedPrecondition, match=r"device cuda: torch sees 0 CUDA device\(s\)"):
            client.predict(solid_image(0.9), "torch-cuda")
        assert client.model("torch-cuda").state == pb.FAILED
        assert client.predict(solid_image(0.1), "onnx-cpu").label == "dark"  # the others keep serving


def test_a_value_that_is_no_device_is_refused(device_server, test_zoo):
    weights = test_zoo / "brightness-onnx" / "model.onnx"
    with Client(device_server.address) as client:
        problems = {p.path: p.reason for p in client.list_models().problems}
        assert any("bad-device" in path and "device must be auto, cpu, cuda or cuda:N" in reason
                   for path, reason in problems.items())
        for device in ("tpu", "cuda:-1", "cuda:01", 0):
            with pytest.raises(InvalidArgument, match="device"):
                client.register_model(card_text(test_zoo, "brightness-onnx", "uploaded", device), weights)
        with pytest.raises(InvalidArgument, match="device must be auto, cpu, cuda or cuda:N"):
            client.training.train(str(device_server.zoo / "onnx-cpu"), on_server=True, device="gpu")
