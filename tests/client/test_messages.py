"""bioclass.messages: each status the server sends, as the user reads it (the CLI and napari show these)."""
import grpc
import pytest

from bioclass.errors import BioclassError, FailedPrecondition, Unavailable
from bioclass.messages import explain, image_reason, load_reason

ADDRESS = "lab-server:50051"


def test_a_crashed_model_process_is_not_an_unreachable_server():
    from bioclass.server.session import SessionCrashed  # what the server raises when a model's process dies

    error = SessionCrashed("the model's process was killed by signal SIGKILL; the next call restarts it")
    message = explain(error, ADDRESS)
    assert message.text == ("The model stopped on the server (the model's process was killed by signal SIGKILL). "
                            "Try again: the server restarts it. If it stops again, it may need more memory than "
                            "the server has.")
    assert message.details == f"UNAVAILABLE: {error.message}"


def test_a_connection_failure_names_the_address_and_the_command():
    error = Unavailable("failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:50051: "
                        "Failed to connect to remote host: Connection refused")
    assert explain(error, ADDRESS).text == (f"Cannot reach the bioclass server at {ADDRESS}. "
                                            f"Is `bioclass serve` running there?")


@pytest.mark.parametrize("reason, words", [
    ("DecodeError: Error parsing message with type 'onnx.ModelProto'", "its file is not a valid ONNX model"),
    ("weights file model.onnx is missing", "its weights file model.onnx is missing"),
    ("RuntimeError: PytorchStreamReader failed reading zip archive", "its file is not a valid PyTorch model"),
    ("OSError: file signature not found", "its file is not a valid Keras model"),
    ("loading took more than 120 s", "loading took more than 120 s"),
    ("something new went wrong.", "something new went wrong"),
])
def test_why_a_model_could_not_load_in_plain_words(reason, words):
    assert load_reason(reason) == words
    text = explain(FailedPrecondition(f"model cells-v2 cannot be loaded: {reason}")).text
    assert text.startswith(f"Model cells-v2 could not be loaded: {words}. Choose another model")


@pytest.mark.parametrize("code, detail, text", [
    (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded",
     "The server did not answer in time: it is busy, or the job is slow. Wait a little and try again; for large "
     "folders, send fewer images at once."),
    (grpc.StatusCode.UNAUTHENTICATED, "missing or wrong token",
     "The server refused the token. Give the token `bioclass serve` was started with (--token-file): set "
     "BIOCLASS_TOKEN, or the Token field in napari."),
    (grpc.StatusCode.NOT_FOUND, "unknown model 'cells'; served models: a, b",
     "The server has no model 'cells'. Choose one it serves: a, b."),
    (grpc.StatusCode.ALREADY_EXISTS, "model cells already exists; set overwrite",
     "Model cells already exists. Choose another id, or replace it (the overwrite box, or --overwrite)."),
    (grpc.StatusCode.INVALID_ARGUMENT, "tensor has 20 channels; at most 16 are supported",
     "Tensor has 20 channels; at most 16 are supported."),
])
def test_each_status_says_what_to_do(code, detail, text):
    message = explain(BioclassError(detail, code), ADDRESS)
    assert (message.text, message.details) == (text, f"{code.name}: {detail}")


@pytest.mark.parametrize("detail, reason", [
    ("cannot decode the image: image file is truncated", "truncated"),
    ("cannot decode the image: not a PNG, JPEG, TIFF or BMP file", "not an image"),
    ("image of 8000x8000 pixels exceeds the server limit of 50000000 pixels", "too large"),
    ("the image contains NaN or infinite values", "NaN or infinite pixels"),
])
def test_why_an_image_was_skipped_in_a_few_words(detail, reason):
    assert image_reason(detail) == reason


def test_the_py4j_gateway_gives_java_the_same_words(dead_port_address):
    import json

    from bioclass.client import Client
    from bioclass.py4j_gateway import GatewayEntryPoint

    with Client(dead_port_address, timeout=5) as client:
        error = json.loads(GatewayEntryPoint(client).listModels())["error"]
    assert error["code"] == "UNAVAILABLE" and error["message"]
    assert error["text"] == (f"Cannot reach the bioclass server at {dead_port_address}. "
                             f"Is `bioclass serve` running there?")


@pytest.fixture
def dead_port_address() -> str:
    """A loopback port that nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"
