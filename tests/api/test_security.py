"""Bearer token, read-only mode and (mutual) TLS on a real server."""
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bioclass.client import Client
from bioclass.errors import BioclassError, PermissionDenied
from models import solid_image
from server_process import ServerProcess
from tls_support import make_pki


def test_token_required_health_open(test_zoo, tmp_path):
    (tmp_path / "token").write_text("s3cret-token\n")
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(tmp_path / "token"),
                           work_dir=tmp_path / "work")
    try:
        for token in (None, "wrong"):
            with Client(server.address, token=token or "") as client:
                with pytest.raises(BioclassError, match="missing or wrong token") as error:
                    client.models()
                assert error.value.code == grpc.StatusCode.UNAUTHENTICATED
        with Client(server.address, token="s3cret-token") as client:
            assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
            assert list(client.predict_many([solid_image(0.1)], "brightness-onnx"))[0].label == "dark"
        with grpc.insecure_channel(server.address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop()


def test_read_only_serves_but_refuses_uploads(test_zoo, tmp_path):
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--read-only", work_dir=tmp_path)
    try:
        with Client(server.address) as client:
            assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
            with pytest.raises(PermissionDenied, match="read-only: RegisterModel is disabled"):
                client.register_model((test_zoo / "brightness-onnx" / "card.yaml").read_text()
                                      .replace("brightness-onnx", "x"), test_zoo / "brightness-onnx" / "model.onnx")
    finally:
        server.stop()


def test_mutual_tls(test_zoo, tmp_path):
    pki = make_pki(tmp_path)
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--tls-cert", str(pki / "server.pem"),
                           "--tls-key", str(pki / "server.key"), "--tls-client-ca", str(pki / "ca.pem"),
                           work_dir=tmp_path / "work")
    try:
        with Client(server.address, ca_cert=str(pki / "ca.pem"), client_cert=str(pki / "client.pem"),
                    client_key=str(pki / "client.key")) as client:
            assert client.predict(solid_image(0.1), "brightness-onnx").label == "dark"
        with Client(server.address, ca_cert=str(pki / "ca.pem"), timeout=5) as no_certificate:
            with pytest.raises(BioclassError):
                no_certificate.models()
        with Client(server.address, timeout=5) as plaintext:
            with pytest.raises(BioclassError):
                plaintext.models()
    finally:
        server.stop()
