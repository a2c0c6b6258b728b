"""napari layers to jobs and back to metadata, with real napari Image layers (no viewer needed)."""
from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels

from napari_bioclass.classify import Row
from napari_bioclass.layers import (classify_jobs, fit_text, image_layers, job_for, pixels, result_text, shown_slice,
                                    store_rows)
from bioclass.client import LabelScore

MODEL = "brightness-onnx"


def test_shown_slice_follows_the_world_point_and_the_layer_scale():
    stack = Image(np.zeros((6, 10, 10)), scale=(2, 1, 1))
    assert shown_slice(stack, (4.0, 0.0, 0.0)) == (2,)
    assert shown_slice(stack, (99.0, 5.0, 5.0)) == (5,)  # clipped to the stack
    rgb_series = Image(np.zeros((3, 10, 10, 3)), rgb=True)
    assert shown_slice(rgb_series, (7.0, 1.0, 0.0, 0.0)) == (1,)  # extra viewer axes in front are ignored
    assert shown_slice(Image(np.zeros((10, 10))), (3.0, 3.0)) == ()


def test_a_pyramid_sends_its_coarsest_level():
    pyramid = Image([np.zeros((64, 64)), np.zeros((32, 32))], multiscale=True)
    assert pixels(pyramid).shape == (32, 32)


def test_jobs_only_for_image_layers():
    image, labels = Image(np.zeros((3, 8, 8)), name="cells"), Labels(np.zeros((8, 8), int))
    assert image_layers([labels, image]) == [image]
    job = job_for(image, (1.0, 0.0, 0.0))
    assert (job.name, job.slice_index, job.plane_count, job_for(image).plane_count) == ("cells", (1,), 1, 3)


def test_store_rows_keeps_the_latest_result_per_model_and_slice():
    layer = Image(np.zeros((3, 8, 8)), name="cells")
    store_rows(layer, [_row((0,), "dark"), _row((1,), "dark")])
    store_rows(layer, [_row((1,), "bright"), _row((1,), "x", model="other")])
    results = layer.metadata["bioclass"]
    assert [(r["model"], r["slice"], r["label"]) for r in results] == [
        (MODEL, [0], "dark"), (MODEL, [1], "bright"), ("other", [1], "x")]
    assert result_text(layer, (1,)) == f"bright 0.90 · cells [1] ({MODEL})\nx 0.90 · cells [1] (other)"
    assert result_text(layer, (2,)) == ""


def test_fit_text_cuts_each_line_to_the_canvas_keeping_the_label():
    text = "bright 0.90 · " + "long name " * 20 + "\ndark 0.10 · short"
    first, second = fit_text(text, width_px=180, font_size=10).split("\n")  # 180 / (10 * 0.9) = 20 characters
    assert (first, second) == ("bright 0.90 · long …", "dark 0.10 · short")
    assert fit_text(text, width_px=10, font_size=10).split("\n")[0] == "bright 0.90…"  # never under MIN_CHARS (12)


def test_classify_jobs_yields_each_row_with_its_job(napari_client):
    white, black = Image(np.ones((8, 8), np.float32), name="white"), Image(np.zeros((2, 8, 8)), name="black")
    pairs = list(classify_jobs(napari_client, [job_for(white), job_for(black)], MODEL, top_k=1))
    assert [(job.layer, row.layer, row.slice, row.label) for job, row in pairs] == [
        (white, "white", (), "bright"), (black, "black", (0,), "dark"), (black, "black", (1,), "dark")]


def _row(index, label, model=MODEL) -> Row:
    return Row("cells", index, model, (LabelScore(label, 0.9, 0),))
