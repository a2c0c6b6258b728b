"""Each ImageJ command, run from the menu (no macro) in ImageJ's GUI under Xvfb, opens ONE dialog that
holds all its fields: the server, the server's models as a list, and the command's own fields."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from java_builds import IJ_JAR, IMAGEJ_SITE

MODEL = "brightness-onnx"
HERE = Path(__file__).parent
COMMANDS = {"Classify Image (bioclass)": "Classify_Image", "Classify Folder (bioclass)": "Classify_Folder",
            "Explain Image (bioclass)": "Explain_Image", "Train from Folder (bioclass)": "Train_From_Folder",
            "Classify Tiles (bioclass)": "Classify_Tiles"}


def dialogs_of(command: str, server, cwd: Path) -> list[str]:
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    classpath = ":".join(map(str, [IJ_JAR, *sorted((IMAGEJ_SITE / "jars").glob("*.jar"))]))
    done = subprocess.run(["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}", "-cp", classpath,
                           str(HERE / "DialogCheck.java"), server.address, command,
                           f"org.bioclass.imagej.{COMMANDS[command]}"],
                          capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("command", [name for name in COMMANDS if not name.startswith("Train")])
def test_one_dialog_with_the_server_and_its_models(java_build, server, command, tmp_path):
    lines = dialogs_of(command, server, tmp_path)
    assert [line for line in lines if line.startswith("dialog ")] == [f"dialog {command}"]
    assert lines[1] == f"text {server.address}"
    models = [line.split(" ", 1)[1].split(",") for line in lines if line.startswith("choice ")][0]
    assert MODEL in models and "corrupt-weights" in models
    assert lines[-1] == "done"


def test_train_dialog_offers_the_recommended_architecture_first(java_build, server, tmp_path):
    lines = dialogs_of("Train from Folder (bioclass)", server, tmp_path)
    assert [line for line in lines if line.startswith("dialog ")] == ["dialog Train from Folder (bioclass)"]
    architectures = [line for line in lines if line.startswith("choice ")][0].split(" ", 1)[1].split(",")
    assert architectures[:3] == ["bioclass:small_cnn3", "mobilenetv3_small_100", "mobilenetv3_large_100"]
    assert lines[-1] == "done"
