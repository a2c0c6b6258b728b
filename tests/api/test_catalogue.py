"""ListFrameworks, ListModels, GetModel, health and reflection on the real server."""
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bioclass.errors import InvalidArgument, NotFound


def test_frameworks_are_listed_with_versions(client):
    frameworks = {f.name: f for f in client.frameworks()}
    assert set(frameworks) == {"pytorch", "keras", "onnx", "classical"}
    assert all(f.available and f.version for f in frameworks.values())
    assert "state_dict" in frameworks["pytorch"].formats and "savedmodel" in frameworks["keras"].formats


def test_models_listed_and_filtered(client):
    ids = {m.id for m in client.models()}
    assert {"brightness-onnx", "brightness-pytorch", "brightness-keras", "brightness-savedmodel"} <= ids
    onnx = client.models(framework="onnx")
    assert onnx and {m.framework for m in onnx} == {"onnx"}
    tagged = {m.id for m in client.models(tags=["brightness"])}
    assert tagged and all(i.startswith(("brightness", "test-resnet", "corrupt")) for i in tagged)
    assert client.models(tags=["brightness", "no-such-tag"]) == []
    with pytest.raises(InvalidArgument, match="unknown framework 'caffe'"):
        client.models(framework="caffe")


def test_broken_card_is_reported_and_others_served(client):
    response = client.list_models()
    problems = {p.path: p.reason for p in response.problems}
    broken = [reason for path, reason in problems.items() if "broken-card" in path]
    assert broken and "framework" in broken[0] and "id" in broken[0]
    assert "brightness-onnx" in {m.id for m in response.models}


def test_get_model_returns_the_full_card(client):
    card = client.model("brightness-keras")
    assert card.framework == "keras" and card.format == "keras"
    assert card.input.axes == "bhwc" and (card.input.height, card.input.width) == (16, 16)
    assert list(card.output.labels) == ["bright", "dark"]
    assert "brightness-keras" in card.card_yaml and card.path.endswith("brightness-keras")
    with pytest.raises(NotFound, match="unknown model 'nope'"):
        client.model("nope")
    with pytest.raises(InvalidArgument, match="model_id is required"):
        client.model("")


def test_health_and_reflection(server):
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "bioclass.v1.Classifier"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(stub.ServerReflectionInfo(iter([request]), timeout=5))
        names = {s.name for s in reply.list_services_response.service}
        assert {"bioclass.v1.Classifier", "grpc.health.v1.Health"} <= names


