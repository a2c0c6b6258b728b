"""`bioclass export-bioimageio` and `bioclass import-bioimageio`."""
from __future__ import annotations

import subprocess
import sys


def cli(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bioclass.cli.main", *args, "--server", server.address],
                          capture_output=True, text=True, timeout=120)


def test_export_then_import(zoo_server, tmp_path):
    package = tmp_path / "malaria.zip"
    result = cli(zoo_server, "export-bioimageio", "malaria-cnn-onnx", "--out", str(package))
    assert result.returncode == 0, result.stderr
    assert package.stat().st_size > 0 and f"exported malaria-cnn-onnx to {package}" in result.stdout
    result = cli(zoo_server, "import-bioimageio", str(package), "--id", "malaria-from-cli")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported malaria-from-cli (onnx, onnx; labels: ")
    result = cli(zoo_server, "import-bioimageio", str(package), "--id", "malaria-from-cli")
    assert result.returncode == 1 and "already exists" in result.stderr and "--overwrite" in result.stderr
    assert "ALREADY_EXISTS" in cli(zoo_server, "import-bioimageio", str(package), "--id", "malaria-from-cli",
                                   "--verbose").stderr
