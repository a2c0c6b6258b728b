"""Certificates for TLS tests, made with openssl: shared by tests/api, tests/java and the napari tests."""
from __future__ import annotations

import subprocess
from pathlib import Path


def make_pki(folder: Path) -> Path:
    """A CA (ca.pem), a server certificate for 127.0.0.1 (server.pem/.key) and a client certificate
    (client.pem/.key) in `folder`. OpenSSL 3 writes the keys as PKCS#8 ("BEGIN PRIVATE KEY"), the form
    grpc-java's Netty reads without extra libraries."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=bioclass test CA")
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        (folder / f"{name}.ext").write_text(extension + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return folder
