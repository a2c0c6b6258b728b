"""Classify arrays the way napari holds them: one result row per image plane of a layer.

Nothing here imports napari or Qt, so tests and scripts call these functions directly with a
`bioclass.client.Client` and a numpy (or dask) array.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioclass.client import Client, LabelScore, Prediction
from bioclass.folders import Skipped, image_items, summary
from bioclass.messages import explain, image_reason

SliceIndex = tuple[int, ...]


@dataclass(frozen=True)
class Row:
    """One classified plane. `slice` indexes the stack axes; it is () for a single 2-D image."""

    layer: str
    slice: SliceIndex
    model: str
    top: tuple[LabelScore, ...] = ()
    error: str = ""

    @property
    def label(self) -> str:
        return self.top[0].label if self.top else ""

    @property
    def probability(self) -> float:
        return self.top[0].probability if self.top else float("nan")

    @property
    def slice_text(self) -> str:
        return ",".join(str(i) for i in self.slice)

    @property
    def top_text(self) -> str:
        return self.error or ", ".join(f"{s.label} {s.probability:.3f}" for s in self.top)

    @property
    def name(self) -> str:
        """The layer and slice, or the file (and page), as the server was told."""
        return plane_name(self.layer, self.slice)

    @property
    def skipped(self) -> Skipped:
        return Skipped(self.name, image_reason(self.error), self.error)

    def as_dict(self) -> dict:
        """Plain types only, so layer metadata stays saveable."""
        return {"slice": list(self.slice), "model": self.model, "label": self.label,
                "probability": None if self.error else self.probability, "error": self.error,
                "top": [{"label": s.label, "probability": s.probability} for s in self.top]}


def stack_shape(shape: Sequence[int], is_rgb: bool) -> tuple[int, ...]:
    """The axes in front of the image plane: napari shows the last two axes (three for RGB)."""
    plane_ndim = 3 if is_rgb else 2
    if len(shape) < plane_ndim:
        raise ValueError(f"an image of shape {tuple(shape)} has no {'RGB ' if is_rgb else ''}2-D plane")
    return tuple(shape[:len(shape) - plane_ndim])


def slice_indices(shape: Sequence[int], is_rgb: bool, slice_index: SliceIndex | None = None) -> list[SliceIndex]:
    """Every plane of the stack, or only `slice_index` (checked against the shape)."""
    stack = stack_shape(shape, is_rgb)
    if slice_index is None:
        return list(np.ndindex(*stack))
    index = tuple(int(i) for i in slice_index)
    if len(index) != len(stack) or any(not 0 <= i < n for i, n in zip(index, stack)):
        raise ValueError(f"slice {index} is outside the stack axes {stack}")
    return [index]


def iter_classify(client: Client, data, is_rgb: bool, model: str, top_k: int = 5,
                  slice_index: SliceIndex | None = None, *, name: str = "") -> Iterator[Row]:
    """Rows as the server answers, one stream per call; planes are read lazily (dask stays lazy)."""
    indices = slice_indices(np.shape(data), is_rgb, slice_index)
    images = ((np.asarray(data[index]), plane_name(name, index)) for index in indices)
    for index, prediction in zip(indices, client.predict_many(images, model, top_k)):
        yield row_from_prediction(name, index, prediction)


def classify_layer(client: Client, data, is_rgb: bool, model: str, top_k: int = 5,
                   slice_index: SliceIndex | None = None, *, name: str = "") -> list[Row]:
    """All rows of one layer's data; raises a BioclassError when the call itself fails."""
    return list(iter_classify(client, data, is_rgb, model, top_k, slice_index, name=name))


def row_from_prediction(name: str, index: SliceIndex, prediction: Prediction) -> Row:
    return Row(layer=name, slice=index, model=prediction.model, top=tuple(prediction.top),
               error=prediction.error)


def plane_name(name: str, index: SliceIndex) -> str:
    """What the server logs and echoes for a plane, e.g. `cells[2]`."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def classify_folder(client: Client, folder: str | Path, model: str, top_k: int = 5) -> Iterator[int | Row]:
    """Every file under `folder`: first how many rows will come, then one row per image (or TIFF
    page) and per file that is not an image, so that nothing stops the rest. Names are relative."""
    folder = Path(folder)
    found = image_items([folder], relative_to=folder)
    yield len(found.items) + len(found.skipped)
    for skipped in found.skipped:
        yield Row(layer=skipped.name, slice=(), model=model, error=skipped.reason)
    for (_, name, _), prediction in zip(found.items, client.predict_many(found.items, model, top_k)):
        yield row_from_prediction(name, (), prediction)


def run_summary(rows: Sequence[Row]) -> str:
    """e.g. "2 classified, 2 skipped: notes.txt not an image, bad.png truncated"."""
    skipped = [row.skipped for row in rows if row.error]
    return summary(len(rows) - len(skipped), skipped)


def describe_error(error: BaseException, address: str = "") -> str:
    """The status line and notification: plain words and the next step, then a Details line with
    the status code and the server's message; never a traceback."""
    message = explain(error, address)
    return f"{message.text}\nDetails: {message.details}"
