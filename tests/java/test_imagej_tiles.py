"""Classify Tiles (bioclass) in Debian's ImageJ, driven by a macro in batch mode under Xvfb against the real
server: the label image and the probability stack lie over the image (its size and calibration, or one pixel
per tile with a calibration that places it), hold the Python client's map, and Results has a row per tile."""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
import tifffile

from java_builds import IJ_JAR, IMAGEJ_SITE
from mosaic_support import CELL, COLUMNS, LABELS, MODEL, ROWS, save_mosaic

MACRO = """
open("FIELD");
source = getTitle();
run("Classify Tiles (bioclass)", "server=SERVER model=MODEL tile=50 stride=50 aggregation=mean map=[image size]");
selectImage(source + " tile labels");
print("labels " + getWidth() + "x" + getHeight() + " bitDepth=" + bitDepth());
saveAs("Tiff", "OUT/labels.tif");
selectImage(source + " tile probabilities");
print("probabilities " + getWidth() + "x" + getHeight() + " slices=" + nSlices + " bitDepth=" + bitDepth());
for (i = 1; i <= nSlices; i++) { setSlice(i); print("slice " + i + " " + getInfo("slice.label")); }
saveAs("Tiff", "OUT/probabilities.tif");
saveAs("Results", "OUT/tiles.csv");
selectImage(source);
run("Classify Tiles (bioclass)", "server=SERVER model=MODEL tile=50 stride=30 aggregation=mean map=[image size]");
selectImage(source + " tile probabilities");
saveAs("Tiff", "OUT/overlap.tif");
run("Clear Results");
selectImage(source);
run("Properties...", "unit=um pixel_width=0.5 pixel_height=0.5");
makeRectangle(100, 50, 200, 200);
run("Classify Tiles (bioclass)", "server=SERVER model=MODEL tile=50 stride=50 aggregation=majority map=[one pixel per tile]");
selectImage(source + " tile probabilities");
getPixelSize(unit, width, height);
print("grid " + getWidth() + "x" + getHeight() + " " + unit + " " + width + " " + height);
saveAs("Tiff", "OUT/grid.tif");
print("rows in region: " + nResults);
print("unknown model:");
run("Classify Tiles (bioclass)", "server=SERVER model=no-such-model tile=50 stride=50 aggregation=mean map=[image size]");
print("error: " + call("org.bioclass.imagej.Failures.getError"));
print("macro finished");
"""


class ImageJRun(NamedTuple):
    log: str
    out: Path
    python: Any  # bioclass.tiled.TiledPrediction, tiles of 50 every 50 pixels
    overlap: Any  # the same, every 30 pixels


@pytest.fixture(scope="module")
def imagej_tiles(java_build, server, tmp_path_factory):
    """Runs the macro once, and the Python client on the same field with the same tiles."""
    from bioclass.client import Client

    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    out = tmp_path_factory.mktemp("imagej-tiles")
    field = save_mosaic(out)
    macro = out / "tiles.ijm"
    macro.write_text(MACRO.replace("SERVER", server.address).replace("MODEL", MODEL).replace("OUT", str(out))
                     .replace("FIELD", str(field)))
    jars = sorted((IMAGEJ_SITE / "jars").glob("*.jar"))
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}",
               "-cp", ":".join(map(str, [IJ_JAR, *jars])), "ij.ImageJ", "-batch", str(macro)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=out)
    log = done.stdout + done.stderr
    assert done.returncode == 0 and "macro finished" in log, log
    with Client(server.address) as client:
        python = client.predict_tiles(field, MODEL, tile=50, stride=50).wait()
        overlap = client.predict_tiles(field, MODEL, tile=50, stride=30).wait()
    return ImageJRun(log, out, python, overlap)


def test_maps_have_the_image_size_and_the_python_clients_values(imagej_tiles):
    log, out, python, _ = imagej_tiles
    assert f"labels {COLUMNS * CELL}x{ROWS * CELL} bitDepth=16" in log
    assert f"probabilities {COLUMNS * CELL}x{ROWS * CELL} slices=2 bitDepth=32" in log
    assert "slice 1 Parasitized" in log and "slice 2 Uninfected" in log
    block = np.ones((CELL, CELL))
    probabilities = tifffile.imread(out / "probabilities.tif")
    expected = np.stack([np.kron(plane, block) for plane in python.probabilities])
    np.testing.assert_allclose(probabilities, expected, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(tifffile.imread(out / "labels.tif"), np.kron(python.label_image(), block))


def test_overlapping_tiles_at_the_image_size_take_the_nearest_tile_centre(imagej_tiles):
    overlap = imagej_tiles.overlap
    grid = overlap.grid
    assert list(grid.row_origins) == [0, 30, 60, 90, 120, 150, 180, 210, 240, 250]

    def nearest(origins, size):  # per pixel, the tile whose centre is nearest (ties: the earlier tile)
        centres = np.asarray(origins) + 25
        return np.abs(np.arange(size)[:, None] + 0.5 - centres[None, :]).argmin(axis=1)

    rows, columns = nearest(grid.row_origins, ROWS * CELL), nearest(grid.column_origins, COLUMNS * CELL)
    expected = overlap.probabilities[:, rows[:, None], columns[None, :]]
    np.testing.assert_allclose(tifffile.imread(imagej_tiles.out / "overlap.tif"), expected, atol=1e-5, rtol=0)


def test_a_results_row_per_tile(imagej_tiles):
    _, out, python, _ = imagej_tiles
    with (out / "tiles.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [key.strip() for key in table[0]][-7:] == ["image", "y", "x", "h", "w", "label", "probability"]
    rows = [(row["image"], int(row["y"]), int(row["x"]), int(row["h"]), int(row["w"])) for row in table]
    assert rows == [("mosaic.png", y, x, CELL, CELL) for y in range(0, ROWS * CELL, CELL)
                    for x in range(0, COLUMNS * CELL, CELL)]
    best = python.probabilities.max(axis=0).ravel()
    assert [row["label"] for row in table] == [LABELS[k - 1] for k in python.label_image().ravel()]
    assert [float(row["probability"]) for row in table] == pytest.approx(best, abs=1e-3)  # 3 decimals in the CSV


def test_one_pixel_per_tile_inside_the_roi_is_calibrated_onto_the_image(imagej_tiles):
    log, out, python, _ = imagej_tiles
    # ROI 200 x 200 at (100, 50): 4 x 4 tiles; a map pixel is 50 image pixels of 0.5 um.
    assert "grid 4x4 µm 25 25" in log  # ImageJ writes "um" as µm
    assert "rows in region: 16" in log
    majority = (python.label_image()[1:5, 2:6] == 1).mean()  # share of the votes for Parasitized
    found = re.search(r"4 x 4 tiles, 16 classified, 0 skipped; whole image: Parasitized ([0-9.]+) \(majority\)", log)
    assert found and float(found.group(1)) == pytest.approx(majority, abs=5e-4), log
    with tifffile.TiffFile(out / "grid.tif") as tif:
        description = tif.pages[0].description
        grid = tif.asarray()
    # Map pixel (0, 0) starts at image pixel (100, 50): origin -2, -1 in map pixels.
    fields = dict(line.split("=", 1) for line in description.splitlines() if "=" in line)
    assert (float(fields["xorigin"]), float(fields["yorigin"])) == (-2.0, -1.0), description
    np.testing.assert_allclose(grid, python.probabilities[:, 1:5, 2:6], atol=1e-5, rtol=0)


def test_an_unknown_model_is_one_log_line_and_no_image(imagej_tiles):
    log = imagej_tiles.log
    after = log.split("unknown model:", 1)[1]
    assert "bioclass: Model no-such-model is not on the bioclass server at" in after
    assert "bioclass: Details: NOT_FOUND: unknown model 'no-such-model'" in after
    assert re.search(r"\nerror: Model no-such-model is not on", after), after
    assert "tile labels" not in after


def test_the_command_records_a_macro_line_that_replays(java_build, server, tmp_path):
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: run scripts/install_java_deps.sh")
    field = save_mosaic(tmp_path)
    classpath = ":".join(map(str, [IJ_JAR, *sorted((IMAGEJ_SITE / "jars").glob("*.jar"))]))
    done = subprocess.run(["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}", "-cp", classpath,
                           str(Path(__file__).parent / "RecordCheck.java"), server.address, MODEL, str(field)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f'recorded run("Classify Tiles (bioclass)", "server={server.address} model={MODEL} tile=50 stride=0 ' \
           'aggregation=mean map=[image size]");' in lines, done.stdout
    assert {"image replayed tile labels", "image replayed tile probabilities"} <= set(lines), done.stdout
