"""Warm-up: a model is ready only once its process has run the network; requests sent while it loads
wait for it and succeed; OIP ModelReady and the health service's per-model status say so."""
import shutil
import threading
import time

import grpc
import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bioclass.client import Client
from bioclass.errors import FailedPrecondition
from bioclass.v1 import classifier_pb2 as pb
from models import solid_image
from server_process import ServerProcess

MODEL = "brightness-pytorch"  # torch takes a second or more to load: long enough to be seen loading


@pytest.fixture
def warm_server(test_zoo, tmp_path):
    server = ServerProcess("--zoo", str(test_zoo), "--no-builtin", "--inference-threads", "1", work_dir=tmp_path)
    yield server
    server.stop()


def health(address: str, service: str) -> int:
    with grpc.insecure_channel(address) as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                         timeout=5).status


def wait_for_state(client: Client, state: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while client.model(MODEL).state != state:
        assert time.monotonic() < deadline, f"{MODEL} never reached {pb.ModelState.Name(state)}"
        time.sleep(0.01)


def test_requests_during_loading_wait_and_ready_only_after_warmup(warm_server):
    triton = triton_grpc.InferenceServerClient(warm_server.address)
    SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    answers: dict[str, str] = {}

    def predict(name: str, value: float) -> None:
        with Client(warm_server.address) as caller:
            answers[name] = caller.predict(solid_image(value), MODEL).label

    with Client(warm_server.address) as client:
        assert client.model(MODEL).state == pb.AVAILABLE
        assert triton.is_model_ready(MODEL)  # an idle model loads on its next request
        assert health(warm_server.address, MODEL) == SERVING
        first = threading.Thread(target=predict, args=("first", 0.9))
        first.start()
        wait_for_state(client, pb.LOADING)
        assert not triton.is_model_ready(MODEL) and not triton.is_model_ready(MODEL, "1")
        assert health(warm_server.address, MODEL) == NOT_SERVING
        assert health(warm_server.address, f"{MODEL}@1") == NOT_SERVING
        second = threading.Thread(target=predict, args=("second", 0.1))  # sent while the model loads
        second.start()
        first.join(60)
        second.join(60)
        assert answers == {"first": "bright", "second": "dark"}
        assert client.model(MODEL).state == pb.LOADED
        assert triton.is_model_ready(MODEL)
        assert health(warm_server.address, MODEL) == SERVING
    triton.close()
    assert "loaded brightness-pytorch@1" in warm_server.log


def test_the_warmup_runs_the_cards_test_input(test_zoo, tmp_path):
    """A card's test_input is the warm-up batch: a good one loads, one of the wrong shape fails the load
    with the reason (so it was read and checked before the model was ready)."""
    zoo = tmp_path / "zoo"
    inputs = {"good-input": np.full((2, 3, 16, 16), 0.8, np.float32), "bad-input": np.zeros((1, 3, 8, 8), np.float32)}
    for model_id, batch in inputs.items():
        shutil.copytree(test_zoo / "brightness-onnx", zoo / model_id)
        np.save(zoo / model_id / "warmup.npy", batch)
        card = yaml.safe_load((zoo / model_id / "card.yaml").read_text())
        (zoo / model_id / "card.yaml").write_text(yaml.safe_dump({**card, "id": model_id, "test_input": "warmup.npy"}))
    server = ServerProcess("--zoo", str(zoo), "--no-builtin", "--inference-threads", "1", work_dir=tmp_path / "work")
    try:
        with Client(server.address) as client:
            assert client.predict(solid_image(0.9), "good-input").label == "bright"
            with pytest.raises(FailedPrecondition, match=r"test_input warmup.npy is float32 \[1, 3, 8, 8\]; the "
                                                         r"warm-up needs float32 \[B, 3, 16, 16\]"):
                client.predict(solid_image(0.9), "bad-input")
            assert client.model("bad-input").state == pb.FAILED
    finally:
        server.stop()
