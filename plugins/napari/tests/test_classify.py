"""The GUI-free logic against the real server: arrays in, rows out."""
from __future__ import annotations

import numpy as np
import pytest

from bioclass.errors import NotFound
from napari_bioclass.classify import classify_layer, describe_error, slice_indices, stack_shape

MODEL = "brightness-onnx"


def solid(value: float, shape=(20, 20), dtype=np.uint8) -> np.ndarray:
    maximum = {np.uint8: 255, np.uint16: 65535}.get(dtype, 1.0)
    return np.full(shape, value * maximum).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_grayscale_of_any_dtype(napari_client, dtype):
    white = classify_layer(napari_client, solid(1, dtype=dtype), False, MODEL, name="white")
    black = classify_layer(napari_client, solid(0, dtype=dtype), False, MODEL, name="black")
    assert [(r.layer, r.slice, r.label) for r in white + black] == [("white", (), "bright"), ("black", (), "dark")]
    assert white[0].probability > 0.99 and [s.label for s in white[0].top] == ["bright", "dark"]


@pytest.mark.parametrize("channels", [3, 4])
def test_rgb_and_rgba(napari_client, channels):
    image = solid(1, (20, 20, channels))
    image[..., 3:] = 0  # a transparent alpha must not make the image dark
    [row] = classify_layer(napari_client, image, True, MODEL, top_k=1)
    assert (row.slice, row.label, len(row.top)) == ((), "bright", 1)


def test_stack_gives_a_row_per_slice(napari_client):
    stack = np.stack([solid(0), solid(1), solid(0)])
    rows = classify_layer(napari_client, stack, False, MODEL, name="stack")
    assert [(r.slice, r.label) for r in rows] == [((0,), "dark"), ((1,), "bright"), ((2,), "dark")]
    assert [r.slice_text for r in rows] == ["0", "1", "2"]


def test_one_slice_of_a_rgb_time_series(napari_client):
    series = np.stack([solid(0, (2, 16, 16, 3)), solid(1, (2, 16, 16, 3))])  # t, z, y, x, c
    [row] = classify_layer(napari_client, series, True, MODEL, slice_index=(1, 0))
    assert (row.slice, row.label) == ((1, 0), "bright")


def test_a_plane_the_server_refuses_becomes_an_error_row(napari_client):
    stack = np.stack([solid(1, dtype=np.float32), np.full((20, 20), np.nan, np.float32)])
    good, bad = classify_layer(napari_client, stack, False, MODEL)
    assert (good.label, good.error) == ("bright", "")
    assert (bad.label, bad.top) == ("", ()) and "NaN" in bad.error and bad.top_text == bad.error


def test_unknown_model_raises_not_found(napari_client):
    with pytest.raises(NotFound) as caught:
        classify_layer(napari_client, solid(1), False, "no-such-model")
    text, details = describe_error(caught.value, "host:1").split("\n")
    assert text.startswith(f"The server has no model 'no-such-model'. Choose one it serves: {MODEL}, ")
    assert details.startswith("Details: NOT_FOUND: unknown model 'no-such-model'; served models: ")


def test_slice_indices_follow_napari_axes():
    assert stack_shape((5, 20, 30), False) == (5,)
    assert stack_shape((20, 30, 3), True) == ()
    assert slice_indices((2, 3, 8, 8), False) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert slice_indices((4, 8, 8, 3), True, slice_index=(3,)) == [(3,)]
    with pytest.raises(ValueError, match="outside"):
        slice_indices((4, 8, 8), False, slice_index=(4,))
