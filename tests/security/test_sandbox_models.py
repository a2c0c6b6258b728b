"""Hostile models in each framework, served from a zoo and uploaded: refused, or contained by the sandbox
(server/sandbox.py). Nothing outside their folder is read or written, and the server keeps serving."""
from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from bioclass.errors import BioclassError
from models import solid_image

WHITE, BLACK = solid_image(1.0), solid_image(0.1)


def assert_still_serving(client) -> None:
    assert client.predict(WHITE, "brightness-onnx").label == "bright"
    assert client.predict(BLACK, "brightness-pytorch").label == "dark"


def refusal(client, model_id: str) -> BioclassError:
    with pytest.raises(BioclassError) as caught:
        client.predict(WHITE, model_id)
    return caught.value


@pytest.mark.parametrize("model_id", ["reads-passwd-shared", "reads-passwd-private"])
def test_torchscript_cannot_read_etc_passwd(sandboxed_client, model_id):
    """The issue's attack: forward returned /etc/passwd's bytes as probabilities. Now the read fails, so the
    warm-up pass refuses the model."""
    error = refusal(sandboxed_client, model_id)
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    mode = "read-write" if model_id.endswith("shared") else "read-only"
    assert error.message == (f"model {model_id} cannot be loaded: network rejects input [1, 3, 16, 16] from the "
                             f"card: RuntimeError: unable to open file </etc/passwd> in {mode} mode: "
                             "Permission denied (13)")
    assert_still_serving(sandboxed_client)


def test_uploaded_torchscript_reader_is_refused_at_registration(sandboxed_client, hostile_zoo):
    folder = hostile_zoo / "reads-passwd-shared"
    card = (folder / "card.yaml").read_text().replace("id: reads-passwd-shared", "id: uploaded-reader")
    with pytest.raises(BioclassError) as caught:
        sandboxed_client.register_model(card, folder / "model.pt")
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.message.endswith("unable to open file </etc/passwd> in read-write mode: "
                                         "Permission denied (13)")
    assert "uploaded-reader" not in [m.id for m in sandboxed_client.models()]
    assert_still_serving(sandboxed_client)


def test_torchscript_cannot_create_a_file_outside(sandboxed_client, outside: Path):
    planted = outside / "planted-by-model.bin"
    error = refusal(sandboxed_client, "writes-outside")
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.message.endswith(f"unable to open file <{planted}> in read-write mode: Permission denied (13)")
    assert not planted.exists()
    assert list(outside.iterdir()) == []
    assert_still_serving(sandboxed_client)


def test_memory_beyond_the_limit_fails_the_call_not_the_server(sandboxed_client):
    """forward asks for 16 GiB on white images: the allocation fails inside the model process (RLIMIT_DATA),
    the caller gets the reason, and the same process answers the next call."""
    assert sandboxed_client.predict(BLACK, "hogs-memory").label == "dark"
    error = refusal(sandboxed_client, "hogs-memory")
    assert error.code == grpc.StatusCode.INTERNAL
    assert "can't allocate memory: you tried to allocate 17179869184 bytes" in error.message
    assert sandboxed_client.predict(BLACK, "hogs-memory").label == "dark"
    assert_still_serving(sandboxed_client)


def test_keras_custom_layer_is_refused(sandboxed_client):
    error = refusal(sandboxed_client, "keras-custom-layer")
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.message.startswith("model keras-custom-layer cannot be loaded: TypeError: <class "
                                    "'keras.src.models.functional.Functional'> could not be deserialized")
    assert_still_serving(sandboxed_client)


@pytest.mark.parametrize("model_id, location", [("onnx-external-absolute", "/etc/passwd"),
                                                ("onnx-external-relative", "../../../../../../etc/passwd")])
def test_onnx_external_data_outside_the_folder_is_refused(sandboxed_client, model_id, location):
    error = refusal(sandboxed_client, model_id)
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.message == (f"model {model_id} cannot be loaded: tensor weights refers to external data "
                             f"{location!r} outside the model's folder")
    assert_still_serving(sandboxed_client)


def test_onnx_custom_op_is_refused(sandboxed_client):
    error = refusal(sandboxed_client, "onnx-custom-op")
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.message.endswith("Fatal error: com.hostile:ReadFile(-1) is not a registered function/op")
    assert_still_serving(sandboxed_client)
