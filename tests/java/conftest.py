"""Builds the Java pieces once per session (each build script skips itself when up to date) and
starts servers: one with a py4j gateway, one requiring a token, one requiring a token over TLS."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from java_builds import BUILD_SCRIPTS, CLIENT_BUILD, REPO, JavaBuild
from server_process import ServerProcess
from tls_support import make_pki

TOKEN = "java-test-token"


@pytest.fixture(scope="session")
def java_build() -> JavaBuild:
    if shutil.which("javac") is None:
        pytest.skip("javac is not installed (run scripts/install_java_deps.sh)")
    for script in BUILD_SCRIPTS:
        done = subprocess.run(["bash", str(REPO / script)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    dependencies = [Path(line) for line in (CLIENT_BUILD / "classpath.txt").read_text().split()]
    return JavaBuild([CLIENT_BUILD / "bioclass-client.jar", *dependencies])


@pytest.fixture(scope="session")
def py4j_server(test_zoo, tmp_path_factory):
    """A server started with --py4j-port 0; `.gateway_port` is the port its gateway announced."""
    process = ServerProcess("--zoo", str(test_zoo), "--py4j-port", "0", "--data-root",
                            str(tmp_path_factory.getbasetemp()), work_dir=tmp_path_factory.mktemp("py4j"))
    announced = [line for line in process.log_lines if "py4j gateway on" in line]
    assert announced, "no gateway line in:\n" + process.log
    process.gateway_port = int(announced[0].rsplit(":", 1)[1])
    yield process
    process.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    """CA, server (127.0.0.1) and client certificates with PKCS#8 keys, and a token file `token`."""
    folder = make_pki(tmp_path_factory.mktemp("pki"))
    (folder / "token").write_text(TOKEN + "\n")
    return folder


@pytest.fixture(scope="session")
def token_server(test_zoo, pki, tmp_path_factory):
    """Plaintext, every call needs the bearer token in pki/token (`.token`)."""
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(pki / "token"),
                            work_dir=tmp_path_factory.mktemp("token-server"))
    process.token = TOKEN
    yield process
    process.stop()


@pytest.fixture(scope="session")
def tls_token_server(test_zoo, pki, tmp_path_factory):
    """TLS with the certificate of pki/ca.pem's CA, and the bearer token (`.token`)."""
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(pki / "token"),
                            "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                            work_dir=tmp_path_factory.mktemp("tls-server"))
    process.token = TOKEN
    yield process
    process.stop()
