"""Grad-CAM in PyTorch: the eager and the TorchScript paths compute the same map."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_eager_hook_and_scripted_graph_agree(tmp_path):
    """Grad-CAM of an eager module (forward hook) equals that of its TorchScript (graph probe)."""
    code = ("import numpy as np, torch, marker_models as m\n"
            "from bioclass.server.explain.torch_gradcam import gradcam\n"
            "eager = m.torch_marker()\n"
            "scripted = torch.jit.trace(eager, torch.zeros(1, 3, m.SIZE, m.SIZE))\n"
            "x = (m.marker_image((4, 4)).transpose(2, 0, 1)[None] / 255).astype(np.float32)\n"
            "a, b = gradcam(eager, x, 0), gradcam(scripted, x, 0)\n"
            "assert a.shape == (1, m.SIZE, m.SIZE) and a.max() > 0\n"
            "assert np.allclose(a, b, atol=1e-6), (a.max(), b.max())\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
