"""The Java client (org.bioclass.client) against the real server, over gRPC and over py4j."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

MODEL = "brightness-onnx"
KINDS = ["8", "16", "32", "RGB", "PNG"]


def check_lines(output: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for line in output.splitlines():
        key, _, rest = line.partition(" ")
        lines.setdefault(key, []).append(rest)
    return lines


def assert_client_results(output: str) -> None:
    lines = check_lines(output)
    assert MODEL in lines["models"][0].split(",")
    assert lines["labels"] == ["bright,dark"]
    predictions = {row.split()[0]: row.split()[1:] for row in lines["predict"]}
    for kind in KINDS:
        assert predictions[f"white{kind}"][0] == "bright", kind
        assert predictions[f"black{kind}"][0] == "dark", kind
    for label, total in predictions.values():
        assert float(total) == pytest.approx(1.0, abs=1e-3)
    assert lines["many"] == ["white8 bright", "junk ERROR INVALID_ARGUMENT", "black8 dark"]
    unknown, corrupt, down = lines["error"]
    assert unknown.startswith("NOT_FOUND Model no-such-model is not on the bioclass server at ")
    assert " Its models: " in unknown and f"{MODEL}," in unknown
    assert unknown.endswith("| unknown model 'no-such-model'; served models: " + unknown.split("Its models: ")[1]
                            .split(". |")[0])
    assert corrupt.startswith("FAILED_PRECONDITION Model corrupt-weights could not be loaded: its file is not a valid "
                              "ONNX model. Choose another model, or fix its files on the server. | model corrupt-weights"
                              " cannot be loaded: "), corrupt
    assert down.startswith("UNAVAILABLE ") and "annot reach the bioclass" in down
    assert "Exception" not in output


def test_grpc_client_lists_and_classifies_every_pixel_type(java_build, server):
    output = java_build.run("org.bioclass.client.ClientCheck", "grpc", server.address, MODEL,
                            extra=(java_build.test_classes,))
    assert_client_results(output)


def test_grpc_client_says_a_silent_server_is_busy_when_the_deadline_passes(java_build):
    """A server that accepts the connection but never answers: DEADLINE_EXCEEDED in lab words."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        output = java_build.run("org.bioclass.client.ClientCheck", "deadline", address, "1",
                                extra=(java_build.test_classes,))
    assert output.splitlines() == [f"error DEADLINE_EXCEEDED The bioclass server at {address} did not answer within"
                                   " 1 s: it is busy or the work is slow. Try again later or with fewer images."
                                   " | " + output.split(" | ", 1)[1].strip()]


def test_grpc_client_says_where_it_looked_when_no_server_listens(java_build):
    output = java_build.run("org.bioclass.client.ClientCheck", "deadline", "127.0.0.1:1", "5",
                            extra=(java_build.test_classes,))
    message, detail = output.strip().split(" | ", 1)
    assert message == ("error UNAVAILABLE Cannot reach the bioclass server at 127.0.0.1:1. "
                       "Is `bioclass serve` running there?")
    assert "Connection refused" in detail


def test_py4j_client_through_serve_py4j_port(java_build, py4j_server):
    output = java_build.run("org.bioclass.client.ClientCheck", "py4j", str(py4j_server.gateway_port), MODEL,
                            extra=(java_build.test_classes,))
    assert_client_results(output)


def test_py4j_client_through_the_standalone_gateway(java_build, server):
    command = [sys.executable, "-m", "bioclass.py4j_gateway", "--port", "0", "--server", server.address]
    gateway = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = gateway.stdout.readline()
        assert "py4j gateway on 127.0.0.1:" in line, line
        output = java_build.run("org.bioclass.client.ClientCheck", "py4j", line.rsplit(":", 1)[1].strip(), MODEL,
                                extra=(java_build.test_classes,))
    finally:
        gateway.terminate()
        gateway.wait(10)
    assert_client_results(output)
