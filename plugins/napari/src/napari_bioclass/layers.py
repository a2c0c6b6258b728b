"""Between napari layers and `classify`: which pixels to send, which slice is shown, where results go.

Results live in `layer.metadata["bioclass"]`: a list of plain dicts (slice, model, label,
probability, top, error), the latest per model and slice. Image layers have no `features` table
in napari, and metadata is saved with the layer.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bioclass.client import Client
from bioclass.messages import image_reason
from napari_bioclass.classify import Row, SliceIndex, iter_classify, slice_indices, stack_shape

METADATA_KEY = "bioclass"
# The overlay's average glyph width in pixels per point of font size (with room to spare), and the
# fewest characters a line keeps however narrow the canvas.
CHAR_PX_PER_POINT = 0.9
MIN_CHARS = 12


@dataclass(frozen=True)
class Job:
    """One layer's planes to classify: gathered on the GUI thread, run in the worker."""

    layer: Any  # napari.layers.Image
    name: str
    data: Any
    is_rgb: bool
    slice_index: SliceIndex | None = None

    @property
    def plane_count(self) -> int:
        return len(slice_indices(np.shape(self.data), self.is_rgb, self.slice_index))


def image_layers(layers: Iterable) -> list:
    from napari.layers import Image

    return [layer for layer in layers if isinstance(layer, Image)]


def pixels(layer):
    """The array to send. For a pyramid, its coarsest level: classifiers resize to a small input
    anyway, and level 0 of a whole slide would exceed the server's pixel limit."""
    return layer.data[-1] if layer.multiscale else layer.data


def shown_slice(layer, world_point: Iterable[float]) -> SliceIndex:
    """The plane of `layer` that the viewer shows at `world_point` (viewer.dims.point)."""
    stack = stack_shape(np.shape(pixels(layer)), layer.rgb)
    coords = layer.world_to_data(np.asarray(world_point))[:len(stack)]
    return tuple(int(np.clip(round(c), 0, n - 1)) for c, n in zip(coords, stack))


def job_for(layer, world_point: Iterable[float] | None = None) -> Job:
    """All planes of `layer`, or only the one shown at `world_point`."""
    index = None if world_point is None else shown_slice(layer, world_point)
    return Job(layer, layer.name, pixels(layer), bool(layer.rgb), index)


def classify_jobs(client: Client, jobs: Iterable[Job], model: str, top_k: int) -> Iterator[tuple[Job, Row]]:
    """The worker's body: rows with the job they belong to, one server stream per layer."""
    for job in jobs:
        for row in iter_classify(client, job.data, job.is_rgb, model, top_k, job.slice_index, name=job.name):
            yield job, row


def store_rows(layer, rows: Iterable[Row]) -> None:
    """Merge rows into the layer's metadata, replacing older results for the same model and slice."""
    results = {(entry["model"], tuple(entry["slice"])): entry for entry in layer.metadata.get(METADATA_KEY, [])}
    results.update({(row.model, row.slice): row.as_dict() for row in rows})
    layer.metadata[METADATA_KEY] = [results[key] for key in sorted(results)]


def result_text(layer, index: SliceIndex) -> str:
    """One line per model for the given slice, label first, e.g. `bright 0.98 · cells [2] (brightness-onnx)`."""
    where = f" [{','.join(map(str, index))}]" if index else ""
    lines = []
    for entry in layer.metadata.get(METADATA_KEY, []):
        if tuple(entry["slice"]) != index:
            continue
        outcome = (f"skipped: {image_reason(entry['error'])}" if entry["error"]
                   else f"{entry['label']} {entry['probability']:.2f}")
        lines.append(f"{outcome} · {layer.name}{where} ({entry['model']})")
    return "\n".join(lines)


def fit_text(text: str, width_px: int, font_size: float) -> str:
    """Each line cut to what a canvas `width_px` wide shows at `font_size` points; the label, first, stays."""
    limit = max(MIN_CHARS, int(width_px / (font_size * CHAR_PX_PER_POINT)))
    return "\n".join(line if len(line) <= limit else line[:limit - 1] + "…" for line in text.splitlines())


@dataclass(frozen=True)
class PlaneJob:
    """One shown plane to send (to explain it, or to classify it in tiles), and where what comes back
    lies in world coordinates: the scale and offset of the plane's two axes."""

    name: str
    plane: Any
    slice: SliceIndex
    scale: tuple[float, ...]
    translate: tuple[float, ...]


def plane_job(layer, world_point: Iterable[float], level: int = -1) -> PlaneJob:
    """The plane of `layer` on screen; for a pyramid, at `level` (default: the coarsest)."""
    index = shown_slice(layer, world_point)
    data = layer.data[level] if layer.multiscale else layer.data
    plane = np.asarray(data[index])
    spatial = slice(len(index), len(index) + 2)  # the two plane axes among the layer's dims
    scale = np.asarray(layer.scale[spatial], dtype=float)
    if layer.multiscale:  # a level's pixel is downsample_factors[level] pixels of level 0
        scale = scale * np.asarray(layer.downsample_factors[level][spatial])
    return PlaneJob(layer.name, plane, index, tuple(scale), tuple(layer.translate[spatial]))
