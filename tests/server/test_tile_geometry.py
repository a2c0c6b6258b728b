"""Tiles as a card's tiling block places them, their aggregation, and the pages a card reads."""
import numpy as np
import pytest
import tifffile

from bioclass import images
from bioclass.errors import InvalidArgument, ResourceExhausted
from bioclass.server import tiling
from bioclass.server.cards import ModelCard, parse_card
from bioclass.server.preprocess import prepare
from paths import DATASETS


def _card(**extra) -> ModelCard:
    return ModelCard.model_validate({"id": "t", "framework": "onnx", "weights": "m.onnx", "input": {"size": [8, 8]},
                                     "output": {"labels": ["a", "b", "c"]}, **extra})


@pytest.mark.parametrize("length, tile, step, starts", [(40, 16, 16, [0, 16, 24]), (32, 16, 16, [0, 16]),
                                                        (10, 16, 16, [0]), (40, 16, 8, [0, 8, 16, 24])])
def test_tiles_start_every_stride_and_the_last_one_meets_the_edge(length, tile, step, starts):
    assert tiling.origins(length, tile, step) == starts


def test_an_image_is_cut_row_by_row_into_network_inputs():
    card = _card(tiling={"size": [8, 8]}, preprocessing={"scale": "none"})
    image = np.arange(16 * 24, dtype=np.float32).reshape(16, 24)
    inputs = tiling.network_inputs(image, card, max_tiles=6)
    assert inputs.shape == (6, 3, 8, 8)
    assert [float(t[0, 0, 0]) for t in inputs] == [0.0, 8.0, 16.0, 192.0, 200.0, 208.0]
    assert tiling.count(image.shape, card.tiling) == 6


def test_percentile_scaling_sees_the_whole_image_not_each_tile():
    card = _card(tiling={"size": [8, 8]}, preprocessing={"scale": "percentile", "percentiles": [0, 100]})
    image = np.zeros((8, 16), np.uint16)
    image[:, 8:] = 1000
    inputs = tiling.network_inputs(image, card, max_tiles=2)
    assert (inputs[0].max(), inputs[1].min()) == (0.0, 1.0)  # a dark tile stays dark


def test_mean_and_majority_aggregation():
    tiles = np.array([[0.9, 0.1, 0.0], [0.4, 0.6, 0.0], [0.45, 0.55, 0.0]], np.float32)
    assert tiling.aggregate(tiles, _card(tiling={"size": [8, 8]})) == pytest.approx([0.5833, 0.4167, 0.0], abs=1e-4)
    majority = _card(tiling={"size": [8, 8], "aggregation": "majority"})
    assert tiling.aggregate(tiles, majority) == pytest.approx([1 / 3, 2 / 3, 0.0])


@pytest.mark.parametrize("block, problem", [("{size: [0, 8]}", "between 1 and 16384"),
                                            ("{size: [8, 8], stride: [16, 8]}", "at most the tile size"),
                                            ("{size: [8, 8], aggregation: max}", "'mean' or 'majority'")])
def test_bad_tiling_blocks_are_refused(block, problem):
    text = f"id: t\nframework: onnx\nweights: m.onnx\ninput: {{size: [8, 8]}}\noutput: {{labels: [a, b]}}\n" \
           f"tiling: {block}\n"
    with pytest.raises(InvalidArgument, match=problem):
        parse_card(text)


def test_two_pages_of_a_jurkat_cell_are_its_first_channels_and_a_zero_third():
    path = next((DATASETS / "jurkat-cell-cycle" / "G1").iterdir())
    stack = images.decode_pages(path.read_bytes(), 2, 10_000)
    assert stack.shape == (40, 40, 2) and stack.dtype == np.uint16
    pages = tifffile.imread(path)
    assert np.array_equal(stack[..., 1], pages[1])
    card = _card(input={"size": [40, 40], "pages": [1, 0]}, preprocessing={"scale": "none"})
    network_input = prepare(stack, card)
    assert np.array_equal(network_input[0], pages[1]) and np.array_equal(network_input[1], pages[0])
    assert not network_input[2].any()
    with pytest.raises(InvalidArgument, match=r"reads pages \[1, 0\] of each image; got an image with 1 page"):
        prepare(pages[0], card)


def test_the_pages_decoded_together_are_held_to_the_pixel_limit():
    data = next((DATASETS / "jurkat-cell-cycle" / "G1").iterdir()).read_bytes()
    assert images.decode_pages(data, 3, 3 * 1600).shape == (40, 40, 3)
    with pytest.raises(ResourceExhausted, match="3 pages of 40x40 pixels exceed the server limit of 4799 pixels"):
        images.decode_pages(data, 3, 3 * 1600 - 1)
    with pytest.raises(InvalidArgument, match="page 3 requested but the image has 3 page"):
        images.decode_pages(data, 4, 10_000)
