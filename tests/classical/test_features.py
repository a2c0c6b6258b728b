"""The feature set on real microscopy: 16-bit fields, multi-page 16-bit TIFF, 8-bit RGB crops."""
from __future__ import annotations

import numpy as np
import pytest

from bioclass.images import decode_encoded
from bioclass.server.cards import ModelCard
from bioclass.server.classical import features
from bioclass.server.classical.spec import FeatureSpec
from bioclass.server.preprocess import prepare

from classical_support import JURKAT, MALARIA, TIFF16

SPEC = FeatureSpec()
# Per channel: 11 intensity statistics, the histogram, Zernike moments (25 up to degree 8), 6 object
# statistics, then per scale 26 Haralick, 10 LBP and 2 gradient values.
PER_CHANNEL = 11 + SPEC.histogram_bins + 25 + 6 + SPEC.scales * (26 + 10 + 2)


def card(size: tuple[int, int], channels: int) -> ModelCard:
    return ModelCard.model_validate({
        "id": "features", "framework": "classical", "weights": "head.onnx", "format": "onnx",
        "input": {"size": list(size), "channels": channels},
        "preprocessing": {"color": "gray" if channels == 1 else "rgb", "scale": "range"},
        "output": {"labels": ["a", "b"], "activation": "none"}, "features": SPEC.model_dump()})


def prepared(path, size: tuple[int, int], channels: int, page: int = 0) -> np.ndarray:
    return prepare(decode_encoded(path.read_bytes(), page, 50_000_000), card(size, channels))


def test_16_bit_fields_give_finite_features_that_tell_the_two_apart():
    binucleate, mononucleate = (prepared(path, (256, 320), 1) for path in TIFF16)
    values = features.compute(np.stack([binucleate, mononucleate]), SPEC)
    assert values.shape == (2, PER_CHANNEL) and values.dtype == np.float32
    assert np.isfinite(values).all()
    assert not np.allclose(values[0], values[1])
    assert np.array_equal(features.compute(binucleate[None], SPEC)[0], values[0])  # deterministic


def test_16_bit_intensities_are_kept_at_their_scale():
    image = decode_encoded(TIFF16[0].read_bytes(), 0, 50_000_000)
    assert image.dtype == np.uint16
    pixels = prepared(TIFF16[0], (256, 320), 1)
    values = features.compute(pixels[None], SPEC)[0]
    assert values[0] == pytest.approx(image.mean() / 65535, rel=0.01)  # the mean, range-scaled
    assert (values[2], values[3]) == (pixels.min(), pixels.max())


@pytest.mark.parametrize("page", [0, 1, 2])
def test_every_page_of_a_multi_page_16_bit_tiff_is_measured(page):
    path = sorted((JURKAT / "G1").glob("*.tif"))[0]
    values = features.compute(prepared(path, (40, 40), 1, page)[None], SPEC)
    assert values.shape == (1, PER_CHANNEL) and np.isfinite(values).all()


def test_rgb_crops_give_one_block_per_channel():
    path = sorted((MALARIA / "Parasitized").iterdir())[0]
    values = features.compute(prepared(path, (50, 50), 3)[None], SPEC)
    assert values.shape == (1, 3 * PER_CHANNEL) and np.isfinite(values).all()


def test_a_constant_image_gives_zeros_for_texture_not_an_error():
    values = features.compute(np.full((1, 1, 32, 32), 0.5, np.float32), SPEC)
    assert values.shape == (1, PER_CHANNEL) and np.isfinite(values).all()
    assert values[0, 0] == pytest.approx(0.5) and values[0, 1] == 0.0


def test_a_subset_of_features_keeps_small_classes_whole_and_fills_the_rest():
    from bioclass.server.classical.train import _round_robin

    groups = [list(range(100)), list(range(100, 103)), list(range(200, 250))]
    taken = _round_robin(groups, 40)
    assert len(taken) == 40 and len(set(taken)) == 40
    assert {100, 101, 102} <= set(taken)  # the small class whole
    assert sum(i < 100 for i in taken) in (18, 19) and sum(i >= 200 for i in taken) in (18, 19)
    assert sorted(_round_robin(groups, 1000)) == sorted(sum(groups, []))
