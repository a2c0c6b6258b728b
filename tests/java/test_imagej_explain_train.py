"""Explain Image and Train from Folder in Debian's ImageJ, driven by one macro in batch mode under Xvfb,
against a real server of their own (the test zoo's brightness models, and room to register a trained
model without touching the session's shared server)."""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from java_builds import IJ_JAR, IMAGEJ_SITE
from server_process import ServerProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from training_support import ARCH, CLASSES, ENV, TINY, copy_images  # noqa: E402

WIDTH, HEIGHT = 48, 40  # not square, so a transposed map would show
MODEL = "imagej-tiny"

MACRO = """
var server = "SERVER";
// Parameter names steer clear of built-in macro functions (fill, name, ...): a macro error opens a dialog.
function explain(imageTitle, colour, modelId, target, how, outName) {
    newImage(imageTitle, "8-bit " + colour, WIDTH, HEIGHT, 1);
    run("Explain Image (bioclass)", "server=" + server + " model=" + modelId + " class=[" + target + "] method=" + how);
    print("explained " + outName + ": " + getTitle() + " bitDepth=" + bitDepth() + " size=" + getWidth() + "x" + getHeight());
    saveAs("Tiff", "OUT/" + outName + ".tif");
}
explain("white", "white", "brightness-onnx", "predicted", "occlusion", "white-onnx");
explain("black", "black", "brightness-onnx", "predicted", "occlusion", "black-onnx");
explain("white", "white", "brightness-pytorch", "predicted", "auto", "white-pytorch");
explain("black", "black", "brightness-pytorch", "bright", "occlusion", "black-pytorch-bright");
explain("white", "white", "test-resnet-state-dict", "predicted", "gradcam", "white-resnet");
explain("black", "black", "test-resnet-state-dict", "bright", "gradcam", "black-resnet-bright");
print("gradcam without convolutions:");
newImage("flat", "8-bit white", WIDTH, HEIGHT, 1);
run("Explain Image (bioclass)", "server=" + server + " model=brightness-pytorch class=[predicted] method=gradcam");
newImage("overlaid", "8-bit white", WIDTH, HEIGHT, 1);
run("Explain Image (bioclass)", "server=" + server + " model=brightness-onnx class=[predicted] method=auto overlay");
selectImage("overlaid");
print("overlay elements: " + Overlay.size);
print("unknown class:");
run("Explain Image (bioclass)", "server=" + server + " model=brightness-onnx class=purple method=auto");
print("train:");
run("Train from Folder (bioclass)", "server=" + server + " folder=[FOLDER] arch=ARCH epochs=EPOCHS image=SIZE model=MODEL batch=BATCH rate=RATE threads=THREADS");
open("SAMPLE");
run("Classify Image (bioclass)", "server=" + server + " model=MODEL top=2");
saveAs("Results", "OUT/trained.csv");
print("missing folder:");
run("Train from Folder (bioclass)", "server=" + server + " folder=[OUT/no-such-folder] arch=ARCH epochs=1 image=32 model=never");
print("macro finished");
"""


@pytest.fixture(scope="module")
def own_server(test_zoo, tmp_path_factory):
    process = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("ij-train"),
                            env=ENV)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def imagej_run(java_build, own_server, tmp_path_factory):
    """Runs the macro once; returns (log, output folder, sample image)."""
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    out = tmp_path_factory.mktemp("imagej-explain-train")
    dataset = copy_images(out / "cells", 8)
    sample = sorted((dataset / CLASSES[0]).iterdir())[0]
    values = {"SERVER": own_server.address, "OUT": str(out), "FOLDER": str(dataset), "SAMPLE": str(sample),
              "WIDTH": str(WIDTH), "HEIGHT": str(HEIGHT), "MODEL": MODEL, "ARCH": ARCH,
              "EPOCHS": str(TINY["epochs"]), "SIZE": str(TINY["image_size"]), "BATCH": str(TINY["batch_size"]),
              "RATE": str(TINY["learning_rate"]), "THREADS": str(TINY["threads"])}
    macro_text = MACRO
    for key, value in values.items():
        macro_text = macro_text.replace(key, value)
    macro = out / "explain_train.ijm"
    macro.write_text(macro_text)
    jars = sorted((IMAGEJ_SITE / "jars").glob("*.jar"))
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}",
               "-cp", ":".join(map(str, [IJ_JAR, *jars])), "ij.ImageJ", "-batch", str(macro)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=out)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "macro finished" in log, log
    return log, out, sample


def saliency(out: Path, name: str) -> np.ndarray:
    return tifffile.imread(out / f"{name}.tif")


# brightness-onnx and brightness-pytorch are single dense layers: "auto" gives occlusion for both; Grad-CAM
# runs on the test zoo's convolutional PyTorch model (random weights: its predicted class is either label).
@pytest.mark.parametrize("name, title, method", [
    ("white-onnx", "white explanation (bright)", "occlusion"),
    ("black-onnx", "black explanation (dark)", "occlusion"),
    ("white-pytorch", "white explanation (bright)", "occlusion"),
    ("black-pytorch-bright", "black explanation (bright)", "occlusion"),
    ("white-resnet", r"white explanation \((bright|dark)\)", "gradcam"),
    ("black-resnet-bright", "black explanation (bright)", "gradcam"),
])
def test_explain_shows_a_32_bit_map_of_the_image_size_in_0_1(imagej_run, name, title, method):
    log, out, _ = imagej_run
    pattern = title if "\\(" in title else re.escape(title)
    found = re.search(f"explained {re.escape(name)}: ({pattern}) bitDepth=32 size={WIDTH}x{HEIGHT}", log)
    assert found, log
    image_title = found.group(1)
    label = image_title.rsplit("(", 1)[1][:-1]
    assert f"bioclass: {method} map of {image_title.split()[0]} for class {label}" in log
    image = saliency(out, name)
    assert image.dtype == np.float32 and image.shape == (HEIGHT, WIDTH)
    assert np.isfinite(image).all() and image.min() >= 0.0 and image.max() <= 1.0


def test_gradcam_on_a_model_without_convolutions_is_one_line(imagej_run):
    log, _, _ = imagej_run
    line = log.split("gradcam without convolutions:", 1)[1].splitlines()[1]
    assert line == "bioclass: the TorchScript graph has no convolution; Grad-CAM needs one (use occlusion)"


def test_explain_can_overlay_the_map_on_the_image(imagej_run):
    log, _, _ = imagej_run
    assert "overlay elements: 1" in log


def test_explain_unknown_class_is_one_line(imagej_run):
    log, _, _ = imagej_run
    line = log.split("unknown class:", 1)[1].splitlines()[1]
    assert line == "bioclass: unknown class 'purple' for model brightness-onnx; its labels are bright, dark"


def test_train_from_folder_logs_progress_and_the_new_model_which_then_classifies(imagej_run):
    log, out, sample = imagej_run
    trained = log.split("train:", 1)[1].split("missing folder:", 1)[0]
    assert "bioclass: training job" in trained and "queued" in trained
    assert f"succeeded: model {MODEL}" in trained, trained
    with (out / "trained.csv").open(newline="") as handle:
        table = [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(handle)]
    assert [row["rank"] for row in table] == ["1", "2"]
    assert {row["label"] for row in table} == set(CLASSES)
    assert all(row["image"] == sample.name for row in table)
    assert sum(float(row["probability"]) for row in table) == pytest.approx(1.0, abs=2e-3)


def test_train_from_a_missing_folder_fails_in_one_line(imagej_run):
    log, _, _ = imagej_run
    line = log.split("missing folder:", 1)[1].splitlines()[1]
    assert line.startswith("bioclass: ") and "no-such-folder" in line, line
    assert "Exception" not in log and "\tat " not in log
