"""A server whose zoo holds the ONNX brightness model under several serving policies."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from server_process import ServerProcess

# model id -> the card's `serving:` section
POLICIES = {
    # `alone`: lone requests run on the spinning session, merged batches on the other
    "batched": {"max_batch_size": 8, "max_queue_delay_us": 300_000, "onnx_spinning": "alone"},
    "unbatched": {"max_batch_size": 1},
    "tiny-queue": {"queue_size": 2, "max_batch_size": 64, "max_queue_delay_us": 1_500_000},
    "two-instances": {"instances": 2, "max_batch_size": 4},
    "in-process": {"isolation": "in_process", "onnx_spinning": True, "max_batch_size": 8,
                   "max_queue_delay_us": 300_000},
}
# model id -> (test zoo model it copies, its `serving:` section)
CONVERTED = {"pytorch-as-onnx": ("brightness-pytorch", {"serve_as": "onnx"}),
             "keras-as-onnx": ("brightness-keras", {"serve_as": "onnx"}),
             # refused: torch never loads in the server process
             "pytorch-in-process": ("brightness-pytorch", {"isolation": "in_process"})}


@pytest.fixture(scope="session")
def serving_zoo(test_zoo, tmp_path_factory) -> Path:
    zoo = tmp_path_factory.mktemp("serving-zoo")
    copies = {**{m: ("brightness-onnx", s) for m, s in POLICIES.items()}, **CONVERTED}
    for model_id, (source, serving) in copies.items():
        folder = zoo / model_id
        shutil.copytree(test_zoo / source, folder)
        card = yaml.safe_load((folder / "card.yaml").read_text())
        card.update(id=model_id, serving=serving)
        (folder / "card.yaml").write_text(yaml.safe_dump(card))
    fix_batch_axis(zoo, "fixed-batch")
    return zoo


def fix_batch_axis(zoo: Path, model_id: str) -> None:
    """A copy of the ONNX model whose batch axis is fixed at 1, as some exported networks have."""
    import onnx

    folder = zoo / model_id
    shutil.copytree(zoo / "batched", folder)
    card = yaml.safe_load((folder / "card.yaml").read_text())
    (folder / "card.yaml").write_text(yaml.safe_dump({**card, "id": model_id}))
    model = onnx.load(folder / "model.onnx")
    for value in (*model.graph.input, *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_value = 1
    onnx.save(model, folder / "model.onnx")


@pytest.fixture(scope="session")
def serving_server(serving_zoo, tmp_path_factory):
    process = ServerProcess("--zoo", str(serving_zoo), "--no-builtin", "--metrics-port", "0",
                            work_dir=tmp_path_factory.mktemp("serving-work"))
    match = re.search(r"metrics on (http://\S+)", process.log)
    process.metrics_url = match.group(1)
    yield process
    process.stop()


@pytest.fixture
def triton(serving_server):
    import tritonclient.grpc as triton_grpc

    client = triton_grpc.InferenceServerClient(serving_server.address)
    yield client
    client.close()
