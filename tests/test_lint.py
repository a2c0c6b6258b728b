"""The Python code passes ruff with the rules configured in pyproject.toml."""
import subprocess
import sys

from paths import REPO

CHECKED = ["server", "clients", "plugins", "bench", "tests"]


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *CHECKED], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
