"""Maps go back onto the image as sent: the inverse of stretch, pad and crop; occlusion covers the input."""
from __future__ import annotations

import numpy as np
import pytest

from bioclass.server.cards import ModelCard
from bioclass.server.explain.maps import normalised, to_original
from bioclass.server.explain.occlusion import default_window, windows


def card(resize: str) -> ModelCard:
    return ModelCard.model_validate({"id": "m", "framework": "onnx", "weights": "model.onnx",
                                     "input": {"channels": 3, "size": [32, 32]}, "preprocessing": {"resize": resize},
                                     "output": {"labels": ["a", "b"]}})


def hot_spot(top: int) -> np.ndarray:
    """A network-input map (32x32) hot in 4x4 pixels at (top, 0)."""
    saliency = np.zeros((32, 32), np.float32)
    saliency[top:top + 4, :4] = 5.0
    return saliency


@pytest.mark.parametrize("resize, top, rows, columns", [
    ("stretch", 0, (0, 4), (0, 7)),  # 20x40 stretched to 32x32: y shrinks by 0.625, x grows by 1.25
    ("pad", 8, (0, 5), (0, 7)),      # scaled to 16x32 below 8 padded rows: network row 8 is the image's row 0
    ("crop", 0, (0, 4), (9, 14)),    # scaled to 32x64, columns 16-48 kept: network column 0 is 10 columns in
])
def test_map_returns_to_the_original_geometry(resize, top, rows, columns):
    saliency = to_original(hot_spot(top), card(resize), (20, 40))
    assert saliency.shape == (20, 40) and saliency.max() == pytest.approx(1.0)
    top, left = np.unravel_index(np.argmax(saliency), saliency.shape)
    assert rows[0] <= top <= rows[1] and columns[0] <= left <= columns[1]


def test_crop_gives_no_importance_to_what_was_cut_away():
    saliency = to_original(np.ones((32, 32), np.float32), card("crop"), (20, 40))
    assert saliency[:, :9].max() < 0.2 and saliency[:, 31:].max() < 0.2 and saliency[:, 12:28].min() == 1.0


def test_normalised_drops_negative_evidence_and_keeps_zero_maps():
    assert normalised(np.array([[-2.0, 1.0], [2.0, 0.0]])).tolist() == [[0.0, 0.5], [1.0, 0.0]]
    assert normalised(np.zeros((2, 2))).max() == 0.0


def test_occlusion_windows_cover_every_pixel():
    window, stride = default_window(30, 50, 0, 0)
    assert (window, stride) == (7, 3)
    covered = np.zeros((30, 50), bool)
    for top, left in windows(30, 50, window, stride):
        covered[top:top + window, left:left + window] = True
    assert covered.all()
