"""A 10,000 x 10,000 RGB tiled TIFF (300 MB, uncompressed) uploaded and classified in 224-pixel tiles:
the map is the checkerboard's, the server with its model processes stays under 1 GB above idle
(resident memory read from /proc while the call runs), and OIP and the CLI, reading the same file
under the server's data root, give the same map."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import tritonclient.grpc as tg

from process_memory import PeakMemory, resident_bytes
from server_process import ServerProcess
from tile_images import expected_labels, write_checkerboard_tiff

SIDE, BLOCK, TILE = 10_000, 448, 224
GIB = 1024 ** 3


@pytest.fixture(scope="module")
def large_server(test_zoo, tmp_path_factory):
    process = ServerProcess("--zoo", str(test_zoo), "--no-builtin", "--data-root", str(tmp_path_factory.getbasetemp()),
                            work_dir=tmp_path_factory.mktemp("work"))
    yield process
    process.stop()


def test_a_10000_pixel_tiff_is_mapped_within_1_gb_above_idle(large_server, tmp_path):
    from bioclass.client import Client

    path = write_checkerboard_tiff(tmp_path / "large.tif", SIDE, SIDE, BLOCK, compression=None)
    assert path.stat().st_size > 300_000_000
    with Client(large_server.address) as client:
        client.predict_tiles(np.zeros((32, 32, 3), np.uint8), "brightness-onnx").wait()  # the model is loaded
        idle = resident_bytes(large_server.process.pid)
        with PeakMemory(large_server.process.pid) as memory:
            result = client.predict_tiles(path, "brightness-onnx", tile=TILE).wait()
    grid = result.grid
    assert (grid.rows, grid.columns) == (45, 45) and grid.row_origins[-1] == SIDE - TILE
    assert (result.label_image() == expected_labels(grid.row_origins, grid.column_origins, TILE, BLOCK)).all()
    print(f"\nserver memory: {idle / 2**20:.0f} MiB idle, peak {(memory.peak - idle) / 2**20:.0f} MiB above")
    assert memory.peak - idle < GIB

    triton = tg.InferenceServerClient(large_server.address)
    try:
        answer = triton.infer("brightness-onnx", [], parameters={"tile_size": TILE, "server_path": str(path)})
    finally:
        triton.close()
    assert np.abs(answer.as_numpy("probability_map") - result.probabilities).max() < 1e-5
    out = tmp_path / "map.tif"
    run = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "predict", str(path), "--model", "brightness-onnx",
                          "--tile", str(TILE), "--on-server", "--map", str(out), "--server", large_server.address],
                         capture_output=True, text=True, timeout=300, env=os.environ)
    assert run.returncode == 0, run.stderr
    assert np.abs(tifffile.imread(out) - result.probabilities).max() < 1e-5
