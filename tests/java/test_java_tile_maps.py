"""Tiled prediction from Java against the real server: the Java client's maps are the Python client's
(inline image, upload in chunks, server path, py4j, a region with overlapping tiles, a 10,000-pixel
TIFF), bad requests come back with their status, and the QuPath logic turns the rows into detection tiles."""
from __future__ import annotations

import numpy as np
import pytest

from mosaic_support import COLUMNS, LABELS, MODEL, ROWS, save_mosaic
from test_java_region_logic import plugin_classes

CHECK = "org.bioclass.client.TileMapCheck"


def java_tiles(java_build, address: str, *args: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The check's lines other than the maps, its probability map and its label map."""
    output = java_build.run(CHECK, address, *args, extra=(java_build.test_classes,))
    lines = output.splitlines()
    grid = next((line.split() for line in lines if line.startswith("grid ")), None)
    if grid is None:  # refused before the grid
        return lines, np.empty(0), np.empty(0)
    rows, columns = int(grid[1]), int(grid[2])
    probabilities = np.full((len(grid[6].split(",")), rows, columns), -1.0, np.float32)
    labels = np.full((rows, columns), -1, np.int64)
    for line in lines:
        if line.startswith("p "):
            k, r, c, value = line.split()[1:]
            probabilities[int(k), int(r), int(c)] = float(value)
        elif line.startswith("label "):
            r, c, value = map(int, line.split()[1:])
            labels[r, c] = value
    return [line for line in lines if not line.startswith(("p ", "label "))], probabilities, labels


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    """The 400 x 300 mosaic as a PNG under the server's data roots (the session's base temp)."""
    return save_mosaic(tmp_path_factory.mktemp("tile-maps"))


@pytest.mark.parametrize("mode", ["inline", "upload", "server"])
def test_java_map_is_the_python_clients_and_rows_arrive_in_order(java_build, server, field, mode):
    from bioclass.client import Client

    with Client(server.address) as client:
        python = client.predict_tiles(field, MODEL, tile=50, stride=50, top_k=2).wait()
    lines, probabilities, labels = java_tiles(java_build, server.address, MODEL, "50", "50", mode, str(field))
    assert lines[0] == f"grid {ROWS} {COLUMNS} 50 50 50 {','.join(LABELS)}"
    total = ROWS * COLUMNS
    assert lines[1:ROWS + 1] == [f"row {r} {(r + 1) * COLUMNS}/{total} {COLUMNS}" for r in range(ROWS)]
    assert lines[ROWS + 1] == f"summary {python.prediction.label} {total} 0"
    np.testing.assert_allclose(probabilities, python.probabilities, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(labels, python.label_image())
    truth = np.where(np.arange(COLUMNS) < COLUMNS // 2, 1, 2)[None, :]  # parasitized cells on the left
    assert (labels == truth).mean() >= 0.9, labels


def test_a_listener_that_throws_stops_the_call_and_the_client_goes_on(java_build, server, field):
    lines, probabilities, _ = java_tiles(java_build, server.address, MODEL, "50", "50", "stop", str(field))
    assert lines[0] == "stopped stop at row 0"
    assert lines[-1].startswith("summary ") and probabilities.shape == (2, ROWS, COLUMNS)
    assert not (probabilities < 0).any()  # every tile of the second call arrived


def test_py4j_gives_the_same_map_in_one_answer(java_build, py4j_server, field):
    from bioclass.client import Client

    with Client(py4j_server.address) as client:
        python = client.predict_tiles(field, MODEL, tile=50, stride=50, top_k=2).wait()
    lines, probabilities, labels = java_tiles(java_build, str(py4j_server.gateway_port), MODEL, "50", "50", "py4j",
                                              str(field))
    assert lines[0] == f"grid {ROWS} {COLUMNS} 50 50 50 {','.join(LABELS)}"
    assert lines[1:ROWS + 1] == [f"row {r} {(r + 1) * COLUMNS}/{ROWS * COLUMNS} {COLUMNS}" for r in range(ROWS)]
    np.testing.assert_allclose(probabilities, python.probabilities, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(labels, python.label_image())


def test_a_region_with_overlapping_tiles_is_the_python_clients(java_build, server, field):
    from bioclass.client import Client

    with Client(server.address) as client:
        python = client.predict_tiles(field, MODEL, tile=50, stride=30, region=(10, 60, 200, 290), top_k=2).wait()
    lines, probabilities, labels = java_tiles(java_build, server.address, MODEL, "50", "30", "upload", str(field),
                                              "60", "10", "290", "200")
    # 200 rows: origins 10, 40, ..., 130 and 160 (aligned to the edge); 290 columns: 60, ..., 300 and 300.
    assert lines[0] == f"grid 6 9 50 50 30 {','.join(LABELS)}"
    assert list(python.grid.row_origins) == [10, 40, 70, 100, 130, 160]
    np.testing.assert_allclose(probabilities, python.probabilities, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(labels, python.label_image())


@pytest.mark.parametrize("model, path, expected", [
    ("no-such-model", None, "error NOT_FOUND: unknown model 'no-such-model'"),
    (MODEL, "/etc/hostname", "error PERMISSION_DENIED: "),
], ids=["unknown-model", "outside-data-roots"])
def test_a_refused_tiled_prediction_is_its_status(java_build, server, field, model, path, expected):
    lines, _, _ = java_tiles(java_build, server.address, model, "50", "50", "server", path or str(field))
    assert lines[-1].startswith(expected), lines


def test_qupath_tile_classifier_makes_detection_tiles_with_class_and_measurements(java_build, server):
    output = java_build.run("org.bioclass.qupath.TileMapClassifierCheck", server.address, "brightness-onnx",
                            extra=plugin_classes("qupath"))
    detections = {"all": [], "skip": []}
    for line in output.splitlines():
        if line.startswith("detection "):
            run, label, x, y, width, height = line.split()[1:7]
            detections[run].append((label, int(x), int(y), int(width), int(height)))
    # Read at downsample 2, tiles of 50 px are 100 px of the slide; its left half (x < 200) is white.
    expected = [("bright" if x < 200 else "dark", x, y, 100, 100) for y in (0, 100, 200) for x in (0, 100, 200, 300)]
    assert detections["all"] == expected
    assert detections["skip"] == [tile for tile in expected if tile[0] == "dark"]  # white is background
    assert "tiles all 12 0" in output and "tiles skip 6 6" in output
    assert [line for line in output.splitlines() if line.startswith("progress")][:3] == [
        "progress 4/12", "progress 8/12", "progress 12/12"]
    first = next(line for line in output.splitlines() if line.startswith("detection all"))
    measurements = dict(item.split("=") for item in first.split(" {", 1)[1].rstrip("}").split(", "))
    assert list(measurements) == ["bioclass brightness-onnx: bright", "bioclass brightness-onnx: dark"]
    assert [float(value) for value in measurements.values()] == pytest.approx([1.0, 0.0], abs=1e-6)


def test_a_10000_pixel_tiled_tiff_uploaded_from_java_has_the_python_clients_map(java_build, server, tmp_path):
    from bioclass.client import Client
    from tile_images import expected_labels, write_checkerboard_tiff

    path = write_checkerboard_tiff(tmp_path / "large.tif", 10_000, 10_000, 448)  # zlib: about 1 MB
    with Client(server.address) as client:
        python = client.predict_tiles(path, "brightness-onnx", tile=224).wait()
    lines, probabilities, labels = java_tiles(java_build, server.address, "brightness-onnx", "224", "0", "upload",
                                              str(path))
    assert lines[0] == "grid 45 45 224 224 224 bright,dark" and lines[-1] == "summary bright 2025 0"
    np.testing.assert_allclose(probabilities, python.probabilities, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(labels, expected_labels(python.grid.row_origins, python.grid.column_origins, 224,
                                                          448))
