"""The napari tests draw with real OpenGL, even when the display they were given is gone."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .opengl_display import STARTED_OWN

REPO = Path(__file__).resolve().parents[3]


def test_a_float_layer_gets_a_visual_drawn_with_opengl(napari_viewer):
    from napari._vispy.utils.gl import get_gl_extensions

    layer = napari_viewer.add_image(np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64))
    assert "GL_" in get_gl_extensions()  # napari read them from a live context, and kept them
    assert layer in napari_viewer.window._qt_viewer.canvas.layer_to_visual


def unused_display() -> str:
    """A display number no X server on this machine answers."""
    number = 300
    while Path(f"/tmp/.X11-unix/X{number}").exists():
        number += 1
    return f":{number}"


def test_a_display_without_opengl_is_replaced_by_an_xvfb_of_the_tests_own(napari_display):
    """What a CI run met: $DISPLAY named no reachable X server, so Qt made canvases without OpenGL."""
    if napari_display is None:
        pytest.skip("no Xvfb on this machine (apt xvfb)")
    env = {**os.environ, "DISPLAY": unused_display(), "QT_QPA_PLATFORM": "offscreen"}
    test = f"{Path(__file__).relative_to(REPO)}::test_a_float_layer_gets_a_visual_drawn_with_opengl"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xvfb", "-p", "no:cacheprovider", "-q", "-W", "always", test],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "1 passed" in output and STARTED_OWN in output
