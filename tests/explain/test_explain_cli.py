"""`bioclass explain` writes the heat map over the image, or the raw map."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from marker_models import marker_image


def explain_cli(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bioclass.cli.main", "explain", *args, "--server", server.address],
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_overlay_and_raw_map(marker_server, tmp_path):
    source = tmp_path / "cell.png"
    Image.fromarray(marker_image((20, 4), size=40)).save(source)
    result = explain_cli(marker_server, str(source), "--model", "marker-pytorch", "--out", str(tmp_path / "o.png"))
    assert result.returncode == 0, result.stderr
    assert "predicted marked" in result.stdout and "gradcam" in result.stdout
    overlay = np.asarray(Image.open(tmp_path / "o.png"))
    assert overlay.shape == (40, 40, 3)
    result = explain_cli(marker_server, str(source), "--model", "marker-onnx", "--raw", "--class", "marked",
                         "--out", str(tmp_path / "raw.tif"))
    assert result.returncode == 0, result.stderr
    raw = np.asarray(Image.open(tmp_path / "raw.tif"))
    assert raw.shape == (40, 40) and raw.dtype == np.float32
    top, left = np.unravel_index(np.argmax(raw), raw.shape)
    assert 20 <= top < 35 and 0 <= left < 15


def test_cli_unknown_class_fails_in_one_line(marker_server, tmp_path):
    source = tmp_path / "cell.png"
    Image.fromarray(marker_image(None)).save(source)
    result = explain_cli(marker_server, str(source), "--model", "marker-onnx", "--class", "tumour",
                         "--out", str(tmp_path / "o.png"))
    assert result.returncode == 1
    assert result.stderr.strip() == ("bioclass: error: Unknown class 'tumour' for model marker-onnx; its labels "
                                     "are marked, plain.")

