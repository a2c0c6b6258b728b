"""Classify the shown plane of an image layer tile by tile and lay the class map over it.

The server's PredictTiles answers a probability per class and tile; here that map becomes one Image
layer per class and a Labels layer of the best class (0 where a tile was skipped as background), each
map pixel a tile, placed by `scale` and `translate` on the source layer: map pixel (r, c) is centred on
tile (r, c) and spans `stride` source pixels (tiles are regular but for the last row and column, which
the server aligns to the edge). Nothing here imports napari or Qt.
"""
from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass

import numpy as np

from bioclass.client import Client
from bioclass.tiled import TiledPrediction
from bioclass.v1 import classifier_pb2 as pb
from napari_bioclass.layers import PlaneJob, plane_job

# A pyramid is tiled at its finest level under this many pixels (the server's default pixel limit).
MAX_TILED_PIXELS = 50_000_000
CLASS_COLORMAPS = ("magenta", "green", "cyan", "yellow", "red", "blue")


def tiled_level(layer, max_pixels: int = MAX_TILED_PIXELS) -> int:
    """The pyramid level to tile: the finest whose plane has at most `max_pixels` (else the coarsest)."""
    if not layer.multiscale:
        return 0
    for level, data in enumerate(layer.data):
        plane = np.shape(data)[-3:-1] if layer.rgb else np.shape(data)[-2:]
        if int(np.prod(plane)) <= max_pixels:
            return level
    return len(layer.data) - 1


def tile_job(layer, world_point: Iterable[float], max_pixels: int = MAX_TILED_PIXELS) -> PlaneJob:
    return plane_job(layer, world_point, tiled_level(layer, max_pixels))


def classify_tiles(client: Client, job: PlaneJob, model: str, tile: int = 0,
                   stride: int = 0) -> Generator[tuple[int, int], None, TiledPrediction]:
    """The worker's body: yields (tiles done, tiles in all) as rows arrive; returns the whole answer."""
    result = client.predict_tiles(job.plane, model, tile=tile, stride=stride, top_k=1, name=job.name)
    shown = (0, 0)
    for _ in result:
        if result.progress != shown:
            shown = result.progress
            yield shown
    return result


@dataclass(frozen=True)
class Placement:
    """Where a map lies in world coordinates: one map pixel per tile."""

    scale: tuple[float, float]
    translate: tuple[float, float]


def placement(job: PlaneJob, grid) -> Placement:
    """Map pixel (r, c) centred on tile (r, c), `stride` source pixels apart (napari centres pixels)."""
    centre = (grid.row_origins[0] + (grid.tile_height - 1) / 2, grid.column_origins[0] + (grid.tile_width - 1) / 2)
    scale = tuple(s * grid.stride for s in job.scale)
    translate = tuple(t + s * c for t, s, c in zip(job.translate, job.scale, centre))
    return Placement(scale, translate)


def map_layers(job: PlaneJob, result: TiledPrediction, model: str) -> list[tuple]:
    """napari layer data tuples: an Image per class (probabilities 0 to 1, NaN where skipped; the first
    class shown), then the Labels of the best class, all placed over the source plane."""
    where = placement(job, result.grid)
    summary = {"model": model, "labels": list(result.labels), "tile": [result.grid.tile_height,
               result.grid.tile_width], "stride": result.grid.stride, "slice": list(job.slice),
               "label": result.prediction.label if result.prediction else "",
               "tiles_classified": result.tiles_classified, "tiles_skipped": result.tiles_skipped}
    common = {"scale": where.scale, "translate": where.translate, "metadata": {"bioclass_tiles": summary}}
    layers = [(result.probabilities[k], {**common, "name": f"{job.name} {label} ({model})",
                                         "colormap": CLASS_COLORMAPS[k % len(CLASS_COLORMAPS)],
                                         "contrast_limits": (0.0, 1.0), "blending": "additive", "opacity": 0.6,
                                         "visible": k == 0}, "image")
              for k, label in enumerate(result.labels)]
    features = {"index": list(range(len(result.labels) + 1)), "class": ["skipped", *result.labels]}
    layers.append((result.label_image(), {**common, "name": f"{job.name} tile labels ({model})", "opacity": 0.5,
                                          "features": features}, "labels"))
    return layers


def summary_text(job: PlaneJob, result: TiledPrediction) -> str:
    """e.g. "Tiles of cells: 6 x 8, 48 classified, 0 skipped; whole image: Parasitized 0.58 (mean)."."""
    grid, whole = result.grid, result.prediction
    answer = f"{whole.label} {whole.probability:.2f}" if whole and whole.top else "none (every tile skipped)"
    aggregation = "majority" if grid.aggregation == pb.AGGREGATION_MAJORITY else "mean"
    return (f"Tiles of {job.name}: {grid.rows} x {grid.columns}, {result.tiles_classified} classified, "
            f"{result.tiles_skipped} skipped; whole image: {answer} ({aggregation}).")
