"""AutoML runs whose search space the dataset shaped: pages of multi-page TIFFs chosen in the request and
read in training and prediction; large 16-bit fields searched and served in native-scale tiles."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import tifffile
import yaml

from bioclass.errors import InvalidArgument
from bioclass.training import state_name
from paths import DATASETS

ONE_TRIAL = dict(architectures=["bioclass:small_cnn3"], semi_supervised_modes=["none"], threads=1)


@pytest.fixture(scope="module")
def jurkat_tiny(tmp_path_factory):
    """12 three-page 16-bit cells of two phases."""
    root = tmp_path_factory.mktemp("jurkat")
    for label in ("G1", "Prophase"):
        (root / label).mkdir()
        for path in sorted((DATASETS / "jurkat-cell-cycle" / label).iterdir())[:12]:
            shutil.copy(path, root / label / path.name)
    return root


@pytest.fixture(scope="module")
def field_quarters(tmp_path_factory):
    """Each 1280x1024 16-bit DAPI field cut in four 640x512 quarters: four large fields per class."""
    root = tmp_path_factory.mktemp("fields")
    for label, source in zip(("binucleate", "non_binu"), sorted((DATASETS / "tiff16-samples").glob("*.tif"))):
        (root / label).mkdir()
        field = tifffile.imread(source)
        for i, (y, x) in enumerate(((0, 0), (0, 640), (512, 0), (512, 640))):
            tifffile.imwrite(root / label / f"q{i}.tif", field[y:y + 512, x:x + 640])
    return root


def _served_card(client, model_id: str) -> dict:
    return yaml.safe_load(client.model(model_id).card_yaml)


def test_the_chosen_pages_are_read_in_training_and_prediction(client, jurkat_tiny):
    run = client.automl.start(jurkat_tiny, 1.0, on_server=True, pages=[0, 1], image_sizes=[32],
                              model_id="jurkat-label-free", **ONE_TRIAL)
    run = client.automl.wait(run.id)
    assert state_name(run.state) == "succeeded", run.error
    assert list(run.profile.pages) == [3] and list(run.request.pages) == [0, 1]
    assert list(run.profile.bit_depths) == [16]
    card = _served_card(client, run.model_id)
    assert card["input"]["pages"] == [0, 1] and card["input"]["size"] == [32, 32]
    cell = next((jurkat_tiny / "G1").iterdir())
    assert client.predict(cell, run.model_id).label in ("G1", "Prophase")
    one_page = tifffile.imread(cell)[0]
    with pytest.raises(InvalidArgument, match=r"reads pages \[0, 1\] of each image; got an image with 1 page"):
        client.predict(one_page, run.model_id)


def test_large_fields_are_searched_and_served_in_native_scale_tiles(client, field_quarters):
    run = client.automl.start(field_quarters, 1.5, on_server=True, model_id="fields-tiled", **ONE_TRIAL)
    run = client.automl.wait(run.id)
    assert state_name(run.state) == "succeeded", run.error
    assert (list(run.request.tilings), list(run.request.image_sizes)) == (["native"], [128, 192, 256])
    assert list(run.request.scales) == ["range", "percentile"] and run.metric == "accuracy"
    assert (run.profile.heights.median, run.profile.widths.median) == (512, 640)
    assert run.leaderboard[0].params["tiling"] == "native"
    card = _served_card(client, run.model_id)
    size = card["input"]["size"]
    assert card["tiling"]["size"] == size and size[0] in (128, 192, 256)  # the network sees source pixels
    field = tifffile.imread(sorted((DATASETS / "tiff16-samples").glob("*.tif"))[0])
    prediction = client.predict(field, run.model_id)
    assert prediction.label in ("binucleate", "non_binu")
    assert float(np.sum(prediction.probabilities)) == pytest.approx(1.0, abs=1e-5)
