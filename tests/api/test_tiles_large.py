"""A 10,000 x 10,000 RGB tiled TIFF (300 MB, uncompressed) uploaded and classified in 224-pixel tiles:
the map is the checkerboard's, and the server with its model processes stays under 1 GB above idle
(resident memory read from /proc while the call runs)."""
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from server_process import ServerProcess
from tile_images import expected_labels, write_checkerboard_tiff

SIDE, BLOCK, TILE = 10_000, 448, 224
GIB = 1024 ** 3


def resident_bytes(pid: int) -> int:
    """VmRSS of a process and all its descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError):
            continue
    family, total = {pid}, 0
    while grown := {p for p, parent in parents.items() if parent in family} - family:
        family |= grown
    for member in family:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS")), 0)
    return total


class PeakMemory:
    def __init__(self, pid: int):
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, resident_bytes(self.pid))
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


@pytest.fixture(scope="module")
def large_server(test_zoo, tmp_path_factory):
    process = ServerProcess("--zoo", str(test_zoo), "--no-builtin", work_dir=tmp_path_factory.mktemp("work"))
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
