"""Declarative augmentation: every technique runs, previews come back, bad lists are refused."""
from __future__ import annotations

import numpy as np
import pytest

from bioclass.errors import InvalidArgument
from bioclass.server.training import augment
from paths import DATASETS
from training_support import MALARIA

ALL_TECHNIQUES = {"crop": {"height": 40, "width": 40}, "random_resized_crop": {"size": [48, 48]},
                  "resize": {"height": 64, "width": 64}}


def _image() -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(sorted((MALARIA / "Parasitized").iterdir())[0]).convert("RGB"))


@pytest.mark.parametrize("technique", sorted(augment.TECHNIQUES))
def test_every_technique_changes_or_keeps_a_valid_image(technique):
    config = [{"technique": technique, "p": 1.0, **ALL_TECHNIQUES.get(technique, {})}]
    import json

    [out] = augment.preview(json.dumps(config), _image(), 1, seed=3)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3


def test_preview_over_grpc_returns_augmented_images(training):
    image = sorted((MALARIA / "Parasitized").iterdir())[0]
    config = "- {technique: flip_horizontal, p: 1.0}\n- {technique: gaussian_noise, p: 1.0}\n"
    previews = training.preview_augmentation(image, config, count=3, seed=1)
    assert len(previews) == 3
    original = _image()
    for out in previews:
        assert out.shape == original.shape and not np.array_equal(out, original)


@pytest.mark.parametrize("config, message", [
    ("- {technique: warp_drive}", "unknown technique 'warp_drive'"),
    ("- {technique: rotate, limt: 10}", "unknown parameter"),
    ("- {technique: gamma, gamma_limit: not-a-range}", "gamma"),
    ("{just: a mapping}", "must be a list"),
    ("[unclosed", "neither JSON nor YAML"),
])
def test_bad_augmentation_lists_are_invalid_argument(training, config, message):
    image = sorted((MALARIA / "Parasitized").iterdir())[0]
    with pytest.raises(InvalidArgument, match=message):
        training.preview_augmentation(image, config)


def test_folder_mode_writes_augmented_copies(tmp_path):
    from bioclass.server.training.data import read_image

    sources = [(path, "Parasitized") for path in sorted((MALARIA / "Parasitized").iterdir())[:2]]
    written = augment.write_folder("- {technique: flip_vertical, p: 1.0}", sources, tmp_path, 3, 0, read_image)
    assert written == 6 and len(list((tmp_path / "Parasitized").glob("*.png"))) == 6


def test_training_inputs_are_the_serving_preprocessing():
    from bioclass.server.cards import ModelCard
    from bioclass.server.preprocess import prepare
    from bioclass.server.training.data import ImageSet, TrainingImages

    card = ModelCard.model_validate({"id": "t", "framework": "pytorch", "weights": "m.pt", "input": {"size": [32, 32]},
                                     "preprocessing": {"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.2]},
                                     "output": {"labels": ["a", "b"]}})
    pixels = _image()
    dataset = TrainingImages(ImageSet(["x"], [pixels], [1]), card)
    x, y = dataset[0]
    assert np.array_equal(x.numpy(), prepare(pixels, card)) and int(y) == 1


JURKAT_CELL = DATASETS / "jurkat-cell-cycle" / "G1"


def _jurkat_card():
    from bioclass.server.cards import ModelCard

    return ModelCard.model_validate({"id": "j", "framework": "pytorch", "weights": "m.pt",
                                     "input": {"size": [40, 40], "pages": [0, 1]}, "preprocessing": {"scale": "range"},
                                     "output": {"labels": ["a", "b"]}})


def _jurkat_pages() -> np.ndarray:
    from bioclass.server.training.data import read_image

    return read_image(sorted(JURKAT_CELL.iterdir())[0], _jurkat_card())  # (40, 40, 2) uint16


def test_16_bit_pages_are_augmented_in_their_own_dtype_and_scale():
    """A flip of a 2-page 16-bit cell is exactly the flipped cell, prepared as the served image would be
    (as uint8 RGB the brightfield's 500-1000 became three grey levels at 257 times the brightness)."""
    from bioclass.server.preprocess import prepare
    from bioclass.server.training.data import ImageSet, TrainingImages

    pixels, card = _jurkat_pages(), _jurkat_card()
    flipped = augment.apply(augment.build("- {technique: flip_horizontal, p: 1.0}"), pixels)
    assert flipped.dtype == np.uint16 and np.array_equal(flipped, pixels[:, ::-1])
    dataset = TrainingImages(ImageSet(["x"], [pixels], [0]), card, augment.build("- {technique: flip_vertical, p: 1.0}"))
    assert np.array_equal(dataset[0][0].numpy(), prepare(np.ascontiguousarray(pixels[::-1]), card))
    brighter = augment.apply(augment.build("- {technique: brightness_contrast, p: 1.0}"), pixels)
    assert brighter.dtype == np.uint16 and brighter.shape == pixels.shape
    assert abs(float(brighter[..., 0].mean()) - float(pixels[..., 0].mean())) < 0.25 * 65535  # not a 257x jump


def test_a_colour_technique_on_two_pages_is_refused_with_the_reason():
    with pytest.raises(InvalidArgument, match="2-channel uint16 images"):
        augment.apply(augment.build("- {technique: hue_saturation, p: 1.0}"), _jurkat_pages())


def test_folder_mode_keeps_16_bit_pages(tmp_path):
    from bioclass.server.training.data import read_image

    card = _jurkat_card()
    sources = [(path, "G1") for path in sorted(JURKAT_CELL.iterdir())[:2]]
    written = augment.write_folder("- {technique: flip_vertical, p: 1.0}", sources, tmp_path, 2, 0,
                                   lambda path: read_image(path, card))
    copies = sorted((tmp_path / "G1").glob("*.tif"))
    assert written == 4 and len(copies) == 4
    original = read_image(sources[0][0], card)
    assert np.array_equal(read_image(copies[0], card), original[::-1])


def test_pseudo_labelling_exposure_keeps_16_bit_images():
    from bioclass.server.training import pseudo

    pixels = _jurkat_pages()
    darker = pseudo.TRANSFORMS["gamma_1.25"](pixels)
    assert darker.dtype == np.uint16 and darker.shape == pixels.shape
    assert (darker <= pixels).all() and (darker[..., 0] > 0).any()
