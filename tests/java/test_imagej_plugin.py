"""The ImageJ 1.x plugin in Debian's ImageJ, driven by a macro in batch mode under Xvfb (ImageJ builds
its AWT menus even in batch mode, so it cannot run headless)."""
from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from java_builds import IJ_JAR, IMAGEJ_SITE

MODEL = "brightness-onnx"

MACRO = """
server = "SERVER"; model = "MODEL";
options = "server=" + server + " model=" + model + " top=2";
newImage("white8", "8-bit white", 32, 32, 1);
run("Classify Image (bioclass)", options);
newImage("black16", "16-bit black", 32, 32, 1);
run("Classify Image (bioclass)", options);
newImage("one32", "32-bit black", 32, 32, 1);
run("Set...", "value=1");
run("Classify Image (bioclass)", options);
newImage("rgb", "RGB black", 32, 32, 1);
setColor(255, 255, 255); fillRect(8, 8, 8, 8);
run("Classify Image (bioclass)", options);
makeRectangle(8, 8, 8, 8);
rename("rgb-roi");
run("Classify Image (bioclass)", options);
newImage("stack", "8-bit black", 32, 32, 3);
setSlice(1); run("Set...", "value=255 slice");
setSlice(3); run("Set...", "value=255 slice");
run("Classify Image (bioclass)", options);
saveAs("Results", "OUT/image.csv");
run("Clear Results");
run("Classify Folder (bioclass)", "server=" + server + " folder=[FOLDER] model=" + model + " top=1");
saveAs("Results", "OUT/folder.csv");
run("List Models (bioclass)", "server=" + server);
print("down server:");
run("Classify Image (bioclass)", "server=127.0.0.1:1 model=" + model + " top=1");
print("unknown model:");
run("Classify Image (bioclass)", "server=" + server + " model=no-such-model top=1");
print("macro finished");
"""


@pytest.fixture(scope="module")
def imagej_run(java_build, server, tmp_path_factory):
    """Runs the macro once; returns (stdout, output folder)."""
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    out = tmp_path_factory.mktemp("imagej")
    folder = out / "images"
    folder.mkdir()
    Image.fromarray(np.full((20, 20, 3), 255, np.uint8)).save(folder / "a-white.png")
    Image.fromarray(np.zeros((20, 20), np.uint16)).save(folder / "b-black16.tif")
    (folder / "notes.txt").write_text("not an image")
    macro = out / "classify.ijm"
    macro.write_text(MACRO.replace("SERVER", server.address).replace("MODEL", MODEL)
                     .replace("OUT", str(out)).replace("FOLDER", str(folder)))
    jars = sorted((IMAGEJ_SITE / "jars").glob("*.jar"))
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}",
               "-cp", ":".join(map(str, [IJ_JAR, *jars])), "ij.ImageJ", "-batch", str(macro)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=out)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr, out


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(handle)]


def best(table: list[dict]) -> list[tuple[str, str, str]]:
    return [(row["image"], row["slice"], row["label"]) for row in table if row["rank"] == "1"]


def test_classify_image_fills_results_for_every_image_type_stack_and_roi(imagej_run):
    _, out = imagej_run
    table = rows(out / "image.csv")
    assert best(table) == [("white8", "1", "bright"), ("black16", "1", "dark"), ("one32", "1", "bright"),
                           ("rgb", "1", "dark"), ("rgb-roi", "1", "bright"),
                           ("stack", "1", "bright"), ("stack", "2", "dark"), ("stack", "3", "bright")]
    assert [row["rank"] for row in table[:2]] == ["1", "2"]
    by_slice: dict[tuple[str, str], float] = {}
    for row in table:
        key = (row["image"], row["slice"])
        by_slice[key] = by_slice.get(key, 0.0) + float(row["probability"])
    assert all(total == pytest.approx(1.0, abs=2e-3) for total in by_slice.values())


def test_classify_folder_opens_each_image_and_skips_other_files(imagej_run):
    log, out = imagej_run
    assert best(rows(out / "folder.csv")) == [("a-white.png", "1", "bright"), ("b-black16.tif", "1", "dark")]
    assert "skipped notes.txt" in log


def test_list_models_logs_the_servers_models(imagej_run):
    log, _ = imagej_run
    assert f"bioclass model: {MODEL} (onnx) bright;dark" in log


def test_failures_are_one_line_messages_not_stack_traces(imagej_run, server):
    log, _ = imagej_run
    down, details = log.split("down server:", 1)[1].splitlines()[1:3]
    assert down == "bioclass: Cannot reach the bioclass server at 127.0.0.1:1. Is `bioclass serve` running there?"
    assert details.startswith("bioclass: Details: UNAVAILABLE: ") and "Connection refused" in details
    unknown, details = log.split("unknown model:", 1)[1].splitlines()[1:3]
    assert unknown.startswith(f"bioclass: Model no-such-model is not on the bioclass server at {server.address}. "
                              f"Its models: ")
    assert details.startswith("bioclass: Details: NOT_FOUND: unknown model 'no-such-model'; served models: ")
    assert "macro finished" in log
    assert "Exception" not in log and "\tat " not in log


def test_plain_imagej_install_with_jars_in_the_plugins_folder(java_build, server, tmp_path):
    """The README's ImageJ 1.x install: bioclass_.jar in plugins/, its jars in plugins/jars/, nothing on -cp."""
    plugins = tmp_path / "plugins"
    shutil.copytree(IMAGEJ_SITE / "jars", plugins / "jars")
    shutil.copy(IMAGEJ_SITE / "plugins" / "bioclass_.jar", plugins)
    macro = tmp_path / "one.ijm"
    macro.write_text(f'newImage("w", "8-bit white", 16, 16, 1);\n'
                     f'run("Classify Image (bioclass)", "server={server.address} model={MODEL} top=1");\n'
                     f'saveAs("Results", "{tmp_path}/one.csv");\n')
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={tmp_path}", "-cp", str(IJ_JAR), "ij.ImageJ",
               "-batch", str(macro)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert best(rows(tmp_path / "one.csv")) == [("w", "1", "bright")]
