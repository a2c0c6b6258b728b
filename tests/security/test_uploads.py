"""Who may upload code: RegisterModel and ImportBioimageio need the admin token (or --allow-uploads);
the ordinary token predicts, and BIOCLASS_TOKEN carries whichever token the user holds."""
import os
import subprocess
import sys

import grpc
import pytest

from bioclass.client import Client
from bioclass.errors import BioclassError, PermissionDenied
from bioclass.server.settings import Settings
from models import solid_image
from server_process import ServerProcess

USER, ADMIN = "user-token-1", "admin-token-2"
CLOSED = ("RegisterModel needs the admin token: send it as the bearer token (BIOCLASS_TOKEN), or start the server "
          "with --admin-token-file FILE or --allow-uploads")


def card_for(test_zoo, model_id: str) -> str:
    return (test_zoo / "brightness-onnx" / "card.yaml").read_text().replace("brightness-onnx", model_id)


@pytest.fixture(scope="module")
def two_token_server(test_zoo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokens")
    (folder / "user").write_text(USER + "\n")
    (folder / "admin").write_text(ADMIN + "\n")
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(folder / "user"),
                            "--admin-token-file", str(folder / "admin"), work_dir=folder / "work")
    yield process
    process.stop()


def test_the_user_token_predicts_but_cannot_upload(two_token_server, test_zoo):
    weights = test_zoo / "brightness-onnx" / "model.onnx"
    with Client(two_token_server.address, token=USER) as client:
        assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
        with pytest.raises(PermissionDenied) as refused:
            client.register_model(card_for(test_zoo, "by-user"), weights)
        assert refused.value.message == CLOSED
        with pytest.raises(PermissionDenied, match="^ImportBioimageio needs the admin token"):
            client.import_bioimageio(weights, "by-user")
        assert "by-user" not in {m.id for m in client.models()}


def test_the_admin_token_uploads_and_predicts(two_token_server, test_zoo):
    with Client(two_token_server.address, token=ADMIN) as admin:
        assert admin.register_model(card_for(test_zoo, "by-admin"), test_zoo / "brightness-onnx" / "model.onnx").id \
            == "by-admin"
        assert admin.predict(solid_image(0.1), "by-admin").label == "dark"
    with Client(two_token_server.address, token=USER) as user:
        assert user.predict(solid_image(0.9), "by-admin").label == "bright"


def test_a_wrong_token_is_unauthenticated_even_for_uploads(two_token_server, test_zoo):
    with Client(two_token_server.address, token="guess") as client:
        with pytest.raises(BioclassError) as refused:
            client.register_model(card_for(test_zoo, "guessed"), test_zoo / "brightness-onnx" / "model.onnx")
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_the_cli_sends_whichever_token_bioclass_token_holds(two_token_server, test_zoo, tmp_path):
    (tmp_path / "card.yaml").write_text(card_for(test_zoo, "by-cli"))

    def register(token: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bioclass.cli.main", "register", str(tmp_path / "card.yaml"),
                               str(test_zoo / "brightness-onnx" / "model.onnx"), "--server", two_token_server.address],
                              capture_output=True, text=True, timeout=120, env={**os.environ, "BIOCLASS_TOKEN": token})

    refused = register(USER)
    assert refused.returncode == 1 and refused.stderr == f"bioclass: error: The server refused: {CLOSED}.\n"
    done = register(ADMIN)
    assert done.returncode == 0, done.stderr
    with Client(two_token_server.address, token=USER) as client:
        assert "by-cli" in {m.id for m in client.models()}


def test_allow_uploads_opens_registration_to_the_token(test_zoo, tmp_path):
    (tmp_path / "user").write_text(USER)
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(tmp_path / "user"),
                           "--allow-uploads", work_dir=tmp_path / "work")
    try:
        with Client(server.address, token=USER) as client:
            assert client.register_model(card_for(test_zoo, "opened"),
                                         test_zoo / "brightness-onnx" / "model.onnx").id == "opened"
    finally:
        server.stop()


@pytest.mark.parametrize("values, open_", [
    ({}, True),  # local, no token: one user on their own machine
    ({"host": "::1"}, True),
    ({"host": "0.0.0.0"}, False),  # reachable from the network without a token: no code uploads
    ({"host": "0.0.0.0", "allow_uploads": True}, True),
    ({"token": USER}, False),
    ({"token": USER, "allow_uploads": True}, True),
    ({"admin_token": ADMIN}, False),  # only the admin token opens them
])
def test_default_upload_rights(values, open_):
    assert Settings(**values).uploads_open is open_


def test_a_token_free_server_on_all_interfaces_refuses_uploads(test_zoo, tmp_path):
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--host", "0.0.0.0", work_dir=tmp_path)
    try:
        with Client(server.address.replace("0.0.0.0", "127.0.0.1")) as client:
            assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
            with pytest.raises(PermissionDenied, match="^RegisterModel needs the admin token"):
                client.register_model(card_for(test_zoo, "remote"), test_zoo / "brightness-onnx" / "model.onnx")
    finally:
        server.stop()
