"""Classify Folder (bioclass) on a real folder with stray files, in ImageJ's batch mode and in a GUI macro
(Debian's ImageJ under Xvfb): every good image gets its rows, each bad file one Log line and the summary
names it, nothing opens a dialog or stops the macro, and the Results window shows the label column."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from java_builds import IJ_JAR, IMAGEJ_SITE

MODEL = "brightness-onnx"
HERE = Path(__file__).parent
LONG_NAME = "c-plate-2026-12-02-experiment-17-a-long-acquisition-name-from-the-microscope-well-B07-0042.png"
ELIDED = "c-plate-2026-12-02-experiment-...he-microscope-well-B07-0042.png"  # 64 characters
GOOD = [("a-white.png", "bright"), ("b-black16.tif", "dark"), (ELIDED, "bright")]
SKIPPED = ["bioclass: skipped bad.png: damaged or truncated (Error reading PNG image data)",
           "bioclass: skipped notes.txt: not an image"]

MACRO = """
run("Classify Folder (bioclass)", "server=SERVER folder=[FOLDER] model=MODEL top=1");
print("rows: " + nResults + ", error: [" + call("org.bioclass.imagej.Failures.getError") + "]");
saveAs("Results", "OUT/folder.csv");
run("Classify Folder (bioclass)", "server=127.0.0.1:1 folder=[FOLDER] model=MODEL top=1");
print("after down server: [" + call("org.bioclass.imagej.Failures.getError") + "]");
run("Classify Folder (bioclass)", "server=SERVER folder=[FOLDER] model=no-such-model top=1");
print("after unknown model: [" + call("org.bioclass.imagej.Failures.getError") + "]");
run("Clear Results");
run("Classify Folder (bioclass)", "server=SERVER folder=[FOLDER] model=MODEL top=1");
print("macro finished");
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Three images (one with a long name), a text file and a PNG cut in half."""
    folder = tmp_path_factory.mktemp("stray") / "cells"
    folder.mkdir()
    Image.fromarray(np.full((20, 20, 3), 255, np.uint8)).save(folder / "a-white.png")
    Image.fromarray(np.zeros((20, 20), np.uint16)).save(folder / "b-black16.tif")
    Image.fromarray(np.full((20, 20), 250, np.uint8)).save(folder / LONG_NAME)
    noisy = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(noisy, "PNG")
    (folder / "bad.png").write_bytes(noisy.getvalue()[:len(noisy.getvalue()) // 2])
    (folder / "notes.txt").write_text("not an image")
    return folder


def write_macro(out: Path, server, folder: Path) -> Path:
    macro = out / "folder.ijm"
    macro.write_text(MACRO.replace("SERVER", server.address).replace("MODEL", MODEL)
                     .replace("OUT", str(out)).replace("FOLDER", str(folder)))
    return macro


def classpath() -> str:
    return ":".join(map(str, [IJ_JAR, *sorted((IMAGEJ_SITE / "jars").glob("*.jar"))]))


def run_imagej(arguments: list[str], out: Path) -> str:
    """ImageJ under Xvfb; a dialog nobody can close would hang it, so the timeout fails the test."""
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}", "-cp", classpath(), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=150, cwd=out)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def batch_run(java_build, server, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    return run_imagej(["ij.ImageJ", "-batch", str(write_macro(out, server, folder))], out), out


@pytest.fixture(scope="module")
def gui_run(java_build, server, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("gui")
    return run_imagej([str(HERE / "ResultsWindowCheck.java"), str(write_macro(out, server, folder))], out), out


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(handle)]


def assert_folder_outcome(log: str, out: Path, folder: Path, server) -> None:
    lines = log.splitlines()
    table = rows(out / "folder.csv")
    assert [(row["image"], row["label"]) for row in table] == GOOD
    assert [line for line in lines if line.startswith("bioclass: skipped")] == SKIPPED * 2
    summary = f"bioclass: {folder}: 3 classified, 2 skipped: bad.png damaged or truncated, notes.txt not an image"
    assert lines.count(summary) == 2
    assert "rows: 3, error: []" in lines
    down = "Cannot reach the bioclass server at 127.0.0.1:1. Is `bioclass serve` running there?"
    assert f"after down server: [{down}]" in lines
    assert f"bioclass: {down}" in lines
    assert any(line.startswith("bioclass: Details: UNAVAILABLE: ") for line in lines)
    assert f"after unknown model: [Model no-such-model is not on the bioclass server at {server.address}. " \
           f"Its models: " in log
    assert lines[-1] == "macro finished" or "macro finished" in lines
    assert "Exception" not in log and "\tat " not in log


def test_batch_mode_classifies_the_good_images_and_logs_each_bad_file(batch_run, folder, server):
    log, out = batch_run
    assert_folder_outcome(log, out, folder, server)


def test_gui_macro_goes_on_after_bad_files_and_failures_without_a_dialog(gui_run, folder, server):
    log, out = gui_run
    assert_folder_outcome(log.split("log:\n", 1)[1], out, folder, server)
    assert not [line for line in log.splitlines() if line.startswith("dialog ")]


def test_results_window_shows_label_and_probability_first_within_its_width(gui_run):
    log, _ = gui_run
    lines = dict(line.split(" ", 1) for line in log.split("log:\n", 1)[0].splitlines() if " " in line)
    headings = lines["headings"].split(",")
    widths = [int(width) for width in lines["widths"].split(",")]
    data = headings[1:] if headings[0].strip() == "" else headings  # a row-number column may come first
    assert data == ["label", "probability", "rank", "slice", "image"]
    label_right_edge = sum(widths[:headings.index("label") + 1])
    probability_right_edge = sum(widths[:headings.index("probability") + 1])
    assert 0 < label_right_edge < probability_right_edge <= int(lines["visible"])
