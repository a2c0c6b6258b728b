"""An X display where napari can draw, checked before the first test needs one.

Qt's offscreen platform takes OpenGL from $DISPLAY (GLX). When that display cannot be reached, Qt
still makes a canvas, but one without OpenGL: napari then caches the empty GL_EXTENSIONS of its
first image layer, and every viewer test after it fails. A CI run lost pytest-xvfb's display that
way, so the napari tests check the display in a fresh process first, and start an Xvfb of their
own when it draws nothing.
"""
from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import warnings

# What napari does on its first image layer: a hidden vispy canvas, then OpenGL's strings. Without
# a context they come back empty (or as None, which vispy fails to decode).
PROBE = (
    "import sys\n"
    "from vispy import app\n"
    "from vispy.gloo import gl\n"
    "canvas = app.Canvas(show=False)\n"
    "version, extensions = gl.glGetParameter(gl.GL_VERSION), gl.glGetParameter(gl.GL_EXTENSIONS)\n"
    "canvas.close()\n"
    "sys.exit(0 if version and 'GL_' in extensions else f'OpenGL version {version!r}, no extensions')\n"
)
PROBE_TIMEOUT_S = 60
STARTED_OWN = "starting an Xvfb of the napari tests' own"


def opengl_problem() -> str | None:
    """None when a hidden canvas on $DISPLAY reads OpenGL's version and extensions; else why not."""
    if not os.environ.get("DISPLAY"):
        return "DISPLAY is not set"
    try:
        result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"a hidden canvas did not answer in {PROBE_TIMEOUT_S} s"
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()[-1500:]


def display_with_opengl() -> str | None:
    """The $DISPLAY where napari draws, after starting an Xvfb if need be; None without any X server.

    Call it before the first QApplication: Qt opens the display once, when that is made.
    """
    first = opengl_problem()
    if first is None:
        return os.environ["DISPLAY"]
    if shutil.which("Xvfb") is None:
        return None
    warnings.warn(f"no OpenGL on DISPLAY={os.environ.get('DISPLAY')!r} ({first}); {STARTED_OWN}")
    os.environ["DISPLAY"] = start_xvfb()
    second = opengl_problem()
    if second is not None:
        raise RuntimeError(f"no OpenGL on a new Xvfb either (DISPLAY={os.environ['DISPLAY']}): {second}")
    return os.environ["DISPLAY"]


def start_xvfb(timeout_s: float = 30) -> str:
    """Start an Xvfb that lives exactly as long as this process; returns its display, ':N'.

    It is not stopped at the end of the session: Qt still holds its connection then, and Xlib
    exits the process with an error when the server goes first. The kernel stops it instead,
    when this process is gone (PR_SET_PDEATHSIG).
    """
    read_end, write_end = os.pipe()
    subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_stop_with_parent)
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        ready, _, _ = select.select([numbers], [], [], timeout_s)
        number = numbers.readline().strip() if ready else ""
    if not number:
        raise RuntimeError(f"Xvfb did not tell its display number within {timeout_s} s")
    return f":{number}"


def _stop_with_parent() -> None:
    """In the forked child: ask the kernel for SIGTERM when the parent process ends."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
