"""RegisterModel: streamed upload, served at once, checked, atomic and durable across restarts."""
import pytest

from bioclass.client import Client
from bioclass.errors import AlreadyExists, DataLoss, FailedPrecondition, InvalidArgument, from_rpc_error
from bioclass.v1 import classifier_pb2 as pb
from models import solid_image
from server_process import ServerProcess


def card_for(test_zoo, model_id: str) -> str:
    return (test_zoo / "brightness-onnx" / "card.yaml").read_text().replace("brightness-onnx", model_id)


def test_register_serve_overwrite_and_survive_restart(test_zoo, tmp_path):
    weights = test_zoo / "brightness-onnx" / "model.onnx"
    server = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            card = client.register_model(card_for(test_zoo, "uploaded"), weights)
            assert card.id == "uploaded" and card.state in (pb.AVAILABLE, pb.LOADED)
            assert client.predict(solid_image(0.9), "uploaded").label == "bright"
            with pytest.raises(AlreadyExists, match="use overwrite"):
                client.register_model(card_for(test_zoo, "uploaded"), weights)
            client.register_model(card_for(test_zoo, "uploaded").replace("Brightness", "Renamed"), weights,
                                  overwrite=True)
            assert client.model("uploaded").name.startswith("Renamed")
            assert client.predict(solid_image(0.1), "uploaded").label == "dark"
    finally:
        server.stop()
    restarted = ServerProcess("--no-builtin", work_dir=tmp_path)
    try:
        with Client(restarted.address) as client:
            assert [m.id for m in client.models()] == ["uploaded"]
            assert client.predict(solid_image(0.9), "uploaded").label == "bright"
        assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]
    finally:
        restarted.stop()


def test_bad_uploads_are_refused_and_nothing_is_stored(client, server, test_zoo, tmp_path):
    weights = test_zoo / "brightness-onnx" / "model.onnx"
    with pytest.raises(InvalidArgument, match="invalid card"):
        client.register_model("id: x\nframework: onnx\n", weights)
    garbage = tmp_path / "model.onnx"
    garbage.write_bytes(b"garbage weights")
    with pytest.raises(FailedPrecondition, match="cannot be loaded"):
        client.register_model(card_for(test_zoo, "garbage-upload"), garbage)
    with pytest.raises(AlreadyExists, match="built-in or zoo model"):
        client.register_model(card_for(test_zoo, "brightness-pytorch"), weights, overwrite=True)
    assert "garbage-upload" not in {m.id for m in client.models()}


def test_checksum_mismatch_is_data_loss(server, test_zoo):
    import grpc

    from bioclass.v1 import classifier_pb2_grpc

    data = (test_zoo / "brightness-onnx" / "model.onnx").read_bytes()
    header = pb.RegisterModelHeader(card_yaml=card_for(test_zoo, "bad-sum"), sha256="0" * 64)
    requests = [pb.RegisterModelRequest(header=header), pb.RegisterModelRequest(chunk=data)]
    with grpc.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.RpcError) as error:
            classifier_pb2_grpc.ClassifierStub(channel).RegisterModel(iter(requests), timeout=30)
    assert error.value.code() == grpc.StatusCode.DATA_LOSS
    assert isinstance(from_rpc_error(error.value), DataLoss)
    assert "checksum mismatch" in error.value.details()
