"""GrpcBioclassClient with a bearer token and (mutual) TLS, against real servers (issue 7).

SecurityCheck makes a unary call, a client stream (predictMany) and a server stream (watchJob of an
unknown job: NOT_FOUND once the token passed) and prints each outcome."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server_process import ServerProcess

MODEL = "brightness-onnx"
ALLOWED = {"list": f"has {MODEL}", "predict": "bright", "stream": "bright dark",
           "watch": "error NOT_FOUND unknown job 'no-such-job'"}
CALLS = list(ALLOWED)


def security_check(java_build, address: str, *options: str, env: dict | None = None) -> dict[str, str]:
    output = java_build.run("org.bioclass.client.SecurityCheck", address, MODEL, *options,
                            extra=(java_build.test_classes,), env=env)
    outcomes = {}
    for line in output.splitlines():
        call, _, outcome = line.partition(" ")
        outcomes[call] = outcome
    return outcomes


def assert_refused(outcomes: dict[str, str], code: str, message: str) -> None:
    assert list(outcomes) == CALLS, outcomes
    for call, outcome in outcomes.items():
        assert outcome.startswith(f"error {code} "), (call, outcome)
        assert message in outcome, (call, outcome)


@pytest.fixture(scope="module")
def mutual_tls_server(test_zoo, pki, tmp_path_factory):
    """TLS that also requires a client certificate from pki/ca.pem's CA, and the token."""
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(pki / "token"),
                            "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                            "--tls-client-ca", str(pki / "ca.pem"), work_dir=tmp_path_factory.mktemp("mtls"))
    yield process
    process.stop()


def test_token_is_sent_on_unary_and_streaming_calls(java_build, token_server, pki, tmp_path):
    assert security_check(java_build, token_server.address, f"token={token_server.token}") == ALLOWED
    assert security_check(java_build, token_server.address, f"token-file={pki / 'token'}") == ALLOWED
    (tmp_path / "blank-first").write_text(f"\n  \n{token_server.token}\n")  # the first non-empty line is the token
    assert security_check(java_build, token_server.address, f"token-file={tmp_path / 'blank-first'}") == ALLOWED
    assert security_check(java_build, token_server.address, env={"BIOCLASS_TOKEN": token_server.token}) == ALLOWED


def test_missing_or_wrong_token_is_unauthenticated(java_build, token_server):
    unauthenticated = "missing or wrong token"
    assert_refused(security_check(java_build, token_server.address, "token="), "UNAUTHENTICATED", unauthenticated)
    assert_refused(security_check(java_build, token_server.address, "token=wrong"), "UNAUTHENTICATED",
                   unauthenticated)
    assert_refused(security_check(java_build, token_server.address, env={"BIOCLASS_TOKEN": ""}),
                   "UNAUTHENTICATED", unauthenticated)


def test_tls_with_the_ca_and_token(java_build, tls_token_server, pki):
    address = tls_token_server.address
    assert security_check(java_build, address, f"ca={pki / 'ca.pem'}", f"token={tls_token_server.token}") == ALLOWED
    assert_refused(security_check(java_build, address, f"ca={pki / 'ca.pem'}", "token=wrong"),
                   "UNAUTHENTICATED", "missing or wrong token")
    # The JDK's own CAs do not trust the test CA; plaintext gets no answer from a TLS port.
    assert_refused(security_check(java_build, address, "tls", f"token={tls_token_server.token}"),
                   "UNAVAILABLE", "PKIX path building failed")
    assert_refused(security_check(java_build, address, f"token={tls_token_server.token}"), "UNAVAILABLE",
                   f"Cannot reach the bioclass server at {address}")


def test_mutual_tls_with_the_environment_variables(java_build, mutual_tls_server, pki):
    environment = {"BIOCLASS_TOKEN": "java-test-token", "BIOCLASS_TLS_CA": str(pki / "ca.pem"),
                   "BIOCLASS_TLS_CERT": str(pki / "client.pem"), "BIOCLASS_TLS_KEY": str(pki / "client.key")}
    assert security_check(java_build, mutual_tls_server.address, env=environment) == ALLOWED
    no_certificate = security_check(java_build, mutual_tls_server.address, f"ca={pki / 'ca.pem'}",
                                    "token=java-test-token")
    assert_refused(no_certificate, "UNAVAILABLE", f"Cannot reach the bioclass server at {mutual_tls_server.address}")


def test_unusable_tls_settings_are_one_invalid_argument(java_build, mutual_tls_server, pki, tmp_path):
    """Netty reads PKCS#8 keys only: an OpenSSL 1.x style RSA key is refused with how to convert it."""
    old_key = tmp_path / "client-rsa.key"
    subprocess.run(["openssl", "rsa", "-in", str(pki / "client.key"), "-traditional", "-out", str(old_key)],
                   check=True, capture_output=True)
    ca = f"ca={pki / 'ca.pem'}"
    pkcs1 = security_check(java_build, mutual_tls_server.address, ca, f"cert={pki / 'client.pem'}",
                           f"key={old_key}")
    assert pkcs1["open"].startswith(f"error INVALID_ARGUMENT the TLS client key {old_key} is not PKCS#8")
    assert "openssl pkcs8 -topk8 -nocrypt" in pkcs1["open"]
    missing = security_check(java_build, mutual_tls_server.address, f"ca={tmp_path / 'no-such-ca.pem'}")
    assert missing["open"].startswith("error INVALID_ARGUMENT cannot read a TLS file")
    lone_key = security_check(java_build, mutual_tls_server.address, ca, f"key={pki / 'client.key'}")
    assert lone_key["open"] == "error INVALID_ARGUMENT a client certificate needs its key and a key its certificate"


def py4j_check(java_build, gateway_port: int) -> str:
    """ClientCheck over py4j: exits non-zero (failing the test) when listing models is refused."""
    output = java_build.run("org.bioclass.client.ClientCheck", "py4j", str(gateway_port), MODEL,
                            extra=(java_build.test_classes,))
    assert MODEL in output.splitlines()[0].split(" ", 1)[1].split(",")
    assert "predict white8 bright" in output and "predict blackPNG dark" in output
    return output


def test_serve_py4j_gateway_uses_the_servers_token_and_certificate(java_build, test_zoo, pki, tmp_path):
    """The in-process gateway sends the server's token and trusts its certificate file (here the chain
    up to the CA), with no client-side settings at all."""
    chain = tmp_path / "chain.pem"
    chain.write_text((pki / "server.pem").read_text() + (pki / "ca.pem").read_text())
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(pki / "token"),
                           "--tls-cert", str(chain), "--tls-key", str(pki / "server.key"), "--py4j-port", "0",
                           work_dir=tmp_path / "work", env={"BIOCLASS_TOKEN": "", "BIOCLASS_TLS_CA": ""})
    try:
        port = int([line for line in server.log_lines if "py4j gateway on" in line][0].rsplit(":", 1)[1])
        py4j_check(java_build, port)
    finally:
        server.stop()


def test_standalone_py4j_gateway_takes_token_file_and_ca(java_build, tls_token_server, pki):
    command = [sys.executable, "-m", "bioclass.py4j_gateway", "--port", "0", "--server", tls_token_server.address,
               "--token-file", str(pki / "token"), "--tls-ca", str(pki / "ca.pem")]
    gateway = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = gateway.stdout.readline()
        assert "py4j gateway on 127.0.0.1:" in line, line
        py4j_check(java_build, int(line.rsplit(":", 1)[1]))
    finally:
        gateway.terminate()
        gateway.wait(10)


def test_py4j_gateway_refuses_a_java_client_without_its_auth_token(java_build, py4j_server):
    """The gateway holds the server's credentials, so it answers only Java that shows the gateway's own
    token (left in ~/.bioclass/py4j-PORT.token, mode 600): a wrong one is UNAUTHENTICATED."""
    token_file = Path.home() / ".bioclass" / f"py4j-{py4j_server.gateway_port}.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    command = ["java", "-cp", java_build.classpath(java_build.test_classes), "org.bioclass.client.ClientCheck", "py4j",
               str(py4j_server.gateway_port), MODEL]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=90,
                             env={**os.environ, "BIOCLASS_PY4J_TOKEN": "not-the-gateway-token"})
    assert refused.returncode != 0
    assert "UNAUTHENTICATED" in refused.stderr and "refused the auth token" in refused.stderr, refused.stderr[-2000:]
