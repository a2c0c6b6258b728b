"""Preprocessing is deterministic and converts any supported image to the card's input."""
import numpy as np
import pytest
import yaml

from bioclass.errors import InvalidArgument
from bioclass.server.cards import parse_card
from bioclass.server.preprocess import elementwise, prepare, prepare_tiles


def make_card(channels=3, axes="bchw", size=(8, 6), **pre):
    return parse_card(yaml.safe_dump({
        "id": "m", "framework": "onnx", "weights": "m.onnx",
        "input": {"axes": axes, "channels": channels, "size": list(size)},
        "preprocessing": {"color": "rgb" if channels == 3 else "gray", **pre},
        "output": {"labels": ["a", "b"]}}))


@pytest.mark.parametrize("image", [
    np.full((20, 30), 128, np.uint8),
    np.full((20, 30, 3), 128, np.uint8),
    np.full((20, 30, 4), 128, np.uint8),
    np.full((20, 30, 1), 128, np.uint8),
    np.full((5, 7), 32896, np.uint16),
    np.full((20, 30, 3), 128 / 255, np.float32),
])
def test_any_image_becomes_the_card_input(image):
    out = prepare(image, make_card())
    assert out.shape == (3, 8, 6) and out.dtype == np.float32
    np.testing.assert_allclose(out, 128 / 255, atol=1e-5)


def test_layouts_and_gray_conversion():
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[..., 0] = 255
    assert prepare(rgb, make_card(axes="bhwc")).shape == (8, 6, 3)
    gray = prepare(rgb, make_card(channels=1))
    assert gray.shape == (1, 8, 6)
    np.testing.assert_allclose(gray, 0.299, atol=1e-4)


def test_mean_std_and_minmax_and_percentile():
    image = np.linspace(0, 1000, 100, dtype=np.float32).reshape(10, 10)
    out = prepare(image, make_card(channels=1, size=(10, 10), scale="minmax"))
    assert out.min() == pytest.approx(0) and out.max() == pytest.approx(1)
    out = prepare(image, make_card(channels=1, size=(10, 10), scale="percentile", percentiles=[10, 90]))
    assert np.median(out) == pytest.approx(0.5, abs=0.02)
    out = prepare(np.full((4, 4, 3), 255, np.uint8), make_card(mean=[0.5], std=[0.25]))
    np.testing.assert_allclose(out, 2.0, atol=1e-5)


def test_pad_and_crop_keep_aspect_ratio():
    wide = np.ones((10, 40), np.uint8) * 255
    padded = prepare(wide, make_card(channels=1, size=(8, 8), resize="pad"))
    assert padded[0, 0, 0] == 0 and padded[0, 4, 4] == pytest.approx(1)
    cropped = prepare(wide, make_card(channels=1, size=(8, 8), resize="crop"))
    np.testing.assert_allclose(cropped, 1, atol=1e-5)


def test_deterministic():
    image = np.random.default_rng(0).integers(0, 255, (33, 47, 3), dtype=np.uint8)
    card = make_card(size=(16, 16))
    np.testing.assert_array_equal(prepare(image, card), prepare(image, card))


@pytest.mark.parametrize("shape", [(10, 10, 2), (10, 10, 5), (2, 10, 10, 3)])
def test_channel_mismatch_names_expected_and_received(shape):
    with pytest.raises(InvalidArgument, match=r"expects .*3-channel|2-D image"):
        prepare(np.zeros(shape, np.uint8), make_card())


TILE_CARDS = {  # (card, band dtype and channels); the first five take the one-pass path
    "rgb uint8, range": (make_card(size=(6, 5), scale="range"), np.uint8, 3),
    "rgba uint16, mean/std, bhwc": (make_card(size=(6, 5), axes="bhwc", mean=[0.4, 0.5, 0.6], std=[0.2, 0.3, 0.4]),
                                    np.uint16, 4),
    "gray float32, range": (make_card(channels=1, size=(6, 5)), np.float32, 0),
    "gray uint16, none": (make_card(channels=1, size=(6, 5), scale="none"), np.uint16, 1),
    "rgb float32, none": (make_card(size=(6, 5), scale="none"), np.float32, 3),
    "resized": (make_card(size=(4, 4)), np.uint8, 3),
    "rgb to gray": (make_card(channels=1, size=(6, 5)), np.uint8, 3),
    "percentile per tile": (make_card(size=(6, 5), scale="percentile"), np.uint16, 3),
}


@pytest.mark.parametrize("name", TILE_CARDS)
def test_a_band_of_tiles_gets_exactly_what_each_tile_gets_alone(name):
    card, dtype, channels = TILE_CARDS[name]
    rng = np.random.default_rng(0)
    shape = (6, 23, channels) if channels else (6, 23)
    band = (rng.random(shape, np.float32) if dtype == np.float32 else rng.integers(0, 60000, shape).astype(dtype))
    band = band[:, 1:]  # a view, as a band cut from a cached block row is
    lefts = [0, 5, 10, 17]  # the last tile overlaps its neighbour, as at an image's edge
    expected = np.stack([prepare(band[:, left:left + 5], card) for left in lefts])
    got = prepare_tiles(band, lefts, 5, card)
    assert elementwise(band, 5, card) == (list(TILE_CARDS).index(name) < 5)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)  # bit for bit, not within a tolerance
