"""The venv that runs bioimageio.core, the community's own `bioimageio test`.

bioimageio.core pins a bioimageio.spec older than the project's, and that spec needs pydantic < 2.12,
so it cannot share the project's venv. Its venv holds only bioimageio.core and what the project lacks
(requirements/bioimageio-core.txt); a .pth file lends it the project's packages behind its own, so the
frameworks (torch, TensorFlow, ONNX Runtime) are the very ones bioclass serves with. Made once with pip
and reused while the requirements and the project's venv are unchanged (a stamp, as run.sh's).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements" / "bioimageio-core.txt"


def venv_path() -> Path:
    return Path(os.environ.get("BIOCLASS_BIOIMAGEIO_VENV", ROOT / ".venv-bioimageio"))


def project_site_packages() -> list[str]:
    """The project's site-packages folders, its own first (a worktree's venv lends it the main one's)."""
    own = sysconfig.get_paths()["purelib"]
    return [own, *(p for p in sys.path if p.endswith("site-packages") and p != own)]


def ensure_venv() -> Path:
    """The `bioimageio` command of the venv, made or brought up to date first."""
    venv = venv_path()
    lent = "\n".join(project_site_packages()) + "\n"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + lent.encode()).hexdigest()[:16]
    stamp = venv / ".bioclass-setup"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:  # two test runs must not build it at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == wanted):
            build(venv, lent)
            stamp.write_text(wanted)
    return venv / "bin" / "bioimageio"


def build(venv: Path, lent: str) -> None:
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    # .pth paths go after the venv's own site-packages: its pydantic and bioimageio.spec win.
    (Path(purelib) / "zz_bioclass_project.pth").write_text(lent)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True,
                   capture_output=True, timeout=900)
