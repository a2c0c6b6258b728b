"""The ImageJ plugin against a server that requires a token over TLS: Server Settings (bioclass) keeps
a token file and the CA in IJ_Prefs and every command uses them (Debian's ImageJ under Xvfb, batch mode)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from java_builds import IJ_JAR, IMAGEJ_SITE

MODEL = "brightness-onnx"

MACRO = """
server = "SERVER";
run("Server Settings (bioclass)", "server=" + server + " token_file=[PKI/token] ca_certificate=[PKI/ca.pem] client_certificate=[] client_key=[]");
newImage("white8", "8-bit white", 32, 32, 1);
run("Classify Image (bioclass)", "server=" + server + " model=MODEL top=1");
saveAs("Results", "OUT/tls.csv");
run("List Models (bioclass)", "server=" + server);
run("Explain Image (bioclass)", "server=" + server + " model=MODEL class=[predicted] method=occlusion");
print("explained: " + getTitle());
print("training:");
run("Train from Folder (bioclass)", "server=" + server + " folder=[OUT/no-such-folder] arch=mobilenetv3_small_050 epochs=1 image=32 model=never");
print("wrong token:");
run("Server Settings (bioclass)", "server=" + server + " token_file=[OUT/wrong-token] ca_certificate=[PKI/ca.pem]");
run("List Models (bioclass)", "server=" + server);
print("no CA:");
run("Server Settings (bioclass)", "server=" + server + " token_file=[PKI/token] ca_certificate=[]");
run("List Models (bioclass)", "server=" + server);
print("missing token file:");
run("Server Settings (bioclass)", "server=" + server + " token_file=[OUT/no-such-token] ca_certificate=[PKI/ca.pem]");
run("List Models (bioclass)", "server=" + server);
run("Server Settings (bioclass)", "server=" + server + " token_file=[] ca_certificate=[]");
print("macro finished");
"""


@pytest.fixture(scope="module")
def imagej_log(java_build, tls_token_server, pki, tmp_path_factory):
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    out = tmp_path_factory.mktemp("imagej-tls")
    (out / "wrong-token").write_text("not-the-token\n")
    macro = out / "tls.ijm"
    macro.write_text(MACRO.replace("SERVER", tls_token_server.address).replace("MODEL", MODEL)
                     .replace("PKI", str(pki)).replace("OUT", str(out)))
    jars = sorted((IMAGEJ_SITE / "jars").glob("*.jar"))
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}", "-cp", ":".join(map(str, [IJ_JAR, *jars])),
               "ij.ImageJ", "-batch", str(macro)]
    # No BIOCLASS_* variables: the settings must come from the Server Settings command.
    environment = {name: value for name, value in __import__("os").environ.items()
                   if not name.startswith("BIOCLASS_")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=out, env=environment)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr, out


def line_after(log: str, marker: str) -> str:
    return log.split(marker, 1)[1].splitlines()[1]


def test_every_command_reaches_a_token_and_tls_server(imagej_log, tls_token_server, pki):
    log, out = imagej_log
    assert f"bioclass: server {tls_token_server.address}, TLS (CA {pki / 'ca.pem'}), with a token" in log
    table = (out / "tls.csv").read_text()
    assert "white8" in table and "bright" in table
    assert f"bioclass model: {MODEL} (onnx) bright;dark" in log
    assert "bioclass: occlusion map of white8 for class bright" in log
    # Train from Folder got past the token check: the server itself refuses the folder (it has no data root).
    training = line_after(log, "training:")
    assert training == ("bioclass: dataset server_dir: this server reads no folders of its own; "
                        "its operator can allow some with --data-root DIR (or upload the dataset instead)")


def test_wrong_token_missing_ca_and_missing_token_file_are_one_line_each(imagej_log, tls_token_server):
    log, _ = imagej_log
    assert line_after(log, "wrong token:").startswith("bioclass: server")
    wrong = log.split("wrong token:", 1)[1].splitlines()[2]
    assert wrong == (f"bioclass: The bioclass server at {tls_token_server.address} refused the token. Give its token"
                     " in Server Settings (a token file) or in BIOCLASS_TOKEN."), wrong
    details = log.split("wrong token:", 1)[1].splitlines()[3]
    assert details.startswith("bioclass: Details: UNAUTHENTICATED: missing or wrong token"), details
    no_ca = log.split("no CA:", 1)[1].splitlines()[2]
    assert no_ca == (f"bioclass: Cannot reach the bioclass server at {tls_token_server.address}. "
                     "Is `bioclass serve` running there?")
    missing = log.split("missing token file:", 1)[1].splitlines()[1:3]
    assert all(line.startswith("bioclass: cannot read the token file") for line in missing), missing
    assert "macro finished" in log
    assert "Exception" not in log and "\tat " not in log
