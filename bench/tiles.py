"""Tiled prediction benchmark: a 10,000 x 10,000 RGB TIFF in 224-pixel tiles through the server
(PredictTiles) against the same tiles as in-process batches (ONNX Runtime in this process).

    .venv/bin/python bench/tiles.py            # the whole image, 3 rounds
    .venv/bin/python bench/tiles.py --quick    # a 10,000 x 2,240 region (450 tiles), 1 round

Model: MobileNetV3-small, 224x224, 10 classes (random weights, exported by bench/serving.py), so a
tile is the network's input and nothing is resized. The image is a zlib-compressed tiled TIFF
(tests/tile_images.py's checkerboard), read by both sides from the same file.

- **server, server path** / **server, upload**: `Client.predict_tiles` on the file under the
  server's data root, or uploaded in chunks; the wall time of the whole call (client included).
- **in-process, end to end**: this process reads each band of tiles through tifffile and zarr,
  preprocesses them with the server's own steps and runs ONNX Runtime on batches of 32, one after
  another (no overlap of reading and inference).
- **in-process, ONNX Runtime only**: the time of those `session.run` calls alone: the throughput
  of the tiles as in-process batches, the figure the server is held to (target: >= 0.8x).

Memory: the server's resident memory (server and model processes, from /proc) above idle while
the call runs. Each round measures every path back to back; ratios are medians of per-round ratios.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

from process_memory import PeakMemory, resident_bytes  # noqa: E402
from serving import CLASSES, MODELS, SHAPE, export_models  # noqa: E402
from tile_images import write_checkerboard_tiff  # noqa: E402

MODEL = "mobilenetv3-small"
SIDE, TILE, BLOCK, BATCH = 10_000, 224, 448, 32


def bench_card_zoo() -> Path:
    """A zoo with one card for the exported network; it scales uint8 pixels (scale: range), as a slide arrives."""
    folder = MODELS / "tiles-zoo" / MODEL
    folder.mkdir(parents=True, exist_ok=True)
    card = {"id": MODEL, "framework": "onnx", "weights": "model.onnx",
            "input": {"axes": "bchw", "channels": 3, "size": list(SHAPE[1:])}, "preprocessing": {"scale": "range"},
            "output": {"labels": [f"class{i}" for i in range(CLASSES)], "activation": "softmax"}}
    (folder / "card.yaml").write_text(json.dumps(card, indent=1))  # JSON is YAML
    if not (folder / "model.onnx").exists():
        (folder / "model.onnx").symlink_to((MODELS / "onnx" / f"{MODEL}.onnx").resolve())
    return folder.parent


def in_process(path: Path, region: tuple[int, int, int, int]) -> tuple[float, float, int]:
    """(end-to-end seconds, ONNX Runtime seconds, tiles) for the region, read and run in this process."""
    import onnxruntime as ort
    import tifffile
    import zarr

    from bioclass.server.backends.onnx import session_options
    from bioclass.server.cards import parse_card
    from bioclass.server.preprocess import finish, scaled
    from bioclass.server.settings import usable_cores
    from bioclass.server.tiling import origins

    card = parse_card((bench_card_zoo() / MODEL / "card.yaml").read_text(), "bench card")
    session = ort.InferenceSession(str(MODELS / "onnx" / f"{MODEL}.onnx"),
                                   sess_options=session_options(usable_cores(), spinning=False),
                                   providers=["CPUExecutionProvider"])
    session.run(None, {"input": np.zeros((BATCH, *SHAPE), np.float32)})  # warm, as the served model is
    y0, x0, height, width = region
    started, ort_seconds, tiles = time.perf_counter(), 0.0, 0
    with tifffile.TiffFile(path) as tif:
        array = zarr.open_array(tif.series[0].aszarr(), mode="r")
        xs = [x0 + x for x in origins(width, TILE, TILE)]
        for y in (y0 + o for o in origins(height, TILE, TILE)):
            for start in range(0, len(xs), BATCH):
                group = xs[start:start + BATCH]
                band = np.asarray(array[y:y + TILE, group[0]:group[-1] + TILE])
                batch = np.stack([finish(scaled(band[:, x - group[0]:x - group[0] + TILE], card), card)
                                  for x in group])
                run_started = time.perf_counter()
                session.run(None, {"input": batch})
                ort_seconds += time.perf_counter() - run_started
                tiles += len(group)
    return time.perf_counter() - started, ort_seconds, tiles


def through_server(server, path: Path, region, upload: bool) -> tuple[float, float, int]:
    """(seconds, peak bytes above idle, tiles) of one PredictTiles call."""
    from bioclass.client import Client

    with Client(server.address) as client:
        idle = resident_bytes(server.process.pid)
        with PeakMemory(server.process.pid) as memory:
            started = time.perf_counter()
            result = client.predict_tiles(path, MODEL, tile=TILE, region=region, on_server=not upload).wait()
            seconds = time.perf_counter() - started
    return seconds, memory.peak - idle, result.grid.rows * result.grid.columns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 10,000 x 2,240 region, one round")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    region = (0, 0, 10 * TILE, SIDE) if args.quick else (0, 0, SIDE, SIDE)

    export_models([MODEL])
    zoo = bench_card_zoo()
    images = MODELS / "tiles"
    images.mkdir(parents=True, exist_ok=True)
    path = images / "checkerboard-10000.tif"
    if not path.exists():
        write_checkerboard_tiff(path, SIDE, SIDE, BLOCK)

    from server_process import ServerProcess

    server = ServerProcess("--zoo", str(zoo), "--no-builtin", "--log-level", "WARNING", "--data-root", str(images),
                           work_dir=MODELS / "work", env={"BIOCLASS_MAX_BATCH_SIZE": str(BATCH)})
    try:
        through_server(server, path, (0, 0, TILE, SIDE), upload=False)  # loads the model, warms batches of 32
        rows = []
        for index in range(rounds):
            # The order turns each round, so what runs first (a cold cache, a neighbour's burst) moves no path.
            paths = [lambda: in_process(path, region), lambda: through_server(server, path, region, upload=False),
                     lambda: through_server(server, path, region, upload=True)]
            order = [(i + index) % 3 for i in range(3)]
            measured = dict(zip(order, (paths[i]() for i in order)))
            (own, ort_only, tiles), (served, memory, served_tiles), (uploaded, upload_memory, _) = (
                measured[0], measured[1], measured[2])
            assert served_tiles == tiles
            rows.append((tiles, own, ort_only, served, uploaded, memory, upload_memory))
            print(f"round {index + 1}: {tiles} tiles; in-process {tiles / own:.1f} tiles/s end to end, "
                  f"{tiles / ort_only:.1f} ORT only; server {tiles / served:.1f} (path), {tiles / uploaded:.1f} "
                  f"(upload); memory above idle {memory / 2**20:.0f} / {upload_memory / 2**20:.0f} MiB", flush=True)
    finally:
        server.stop()
    print_summary(rows)
    return 0


def print_summary(rows) -> None:
    tiles = rows[0][0]

    def median(i):
        return statistics.median(r[i] for r in rows)

    def ratio(i, j):
        return statistics.median(r[j] / r[i] for r in rows)  # time ratio = throughput ratio inverted

    print("\n| path | tiles/s | vs ORT only | vs in-process end to end | peak memory above idle |\n|---|---|---|---|---|")
    print(f"| in-process, ONNX Runtime only | {tiles / median(2):.1f} | 1.00x | | |")
    print(f"| in-process, end to end | {tiles / median(1):.1f} | {ratio(1, 2):.2f}x | 1.00x | |")
    print(f"| server, server path | {tiles / median(3):.1f} | {ratio(3, 2):.2f}x | {ratio(3, 1):.2f}x | "
          f"{max(r[5] for r in rows) / 2**20:.0f} MiB |")
    print(f"| server, upload | {tiles / median(4):.1f} | {ratio(4, 2):.2f}x | {ratio(4, 1):.2f}x | "
          f"{max(r[6] for r in rows) / 2**20:.0f} MiB |")


if __name__ == "__main__":
    sys.exit(main())
