"""The Java client (org.bioclass.client) against the real server, over gRPC and over py4j."""
from __future__ import annotations

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
    unknown, down = lines["error"]
    assert unknown.startswith("NOT_FOUND unknown model 'no-such-model'")
    assert down.startswith("UNAVAILABLE cannot reach the bioclass")
    assert "Exception" not in output


def test_grpc_client_lists_and_classifies_every_pixel_type(java_build, server):
    output = java_build.run("org.bioclass.client.ClientCheck", "grpc", server.address, MODEL,
                            extra=(java_build.test_classes,))
    assert_client_results(output)


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
