"""Declarative augmentation: every technique runs, previews come back, bad lists are refused."""
from __future__ import annotations

import numpy as np
import pytest

from bioclass.errors import InvalidArgument
from bioclass.server.training import augment
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
