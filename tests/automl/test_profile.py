"""The dataset profile on real shared images, and the search space it shapes (each choice overridable)."""
from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest

from google.protobuf.json_format import ParseDict

from bioclass.cli.automl import profile_text
from bioclass.server.automl import profile, search, shape
from bioclass.v1 import automl_pb2
from bioclass.server.automl.request import AutoMLConfig, validated_request
from paths import DATASETS

NO_DUPLICATES = {"duplicate_images": 0, "duplicates_across_classes": 0, "duplicate_examples": []}
MALARIA_PROFILE = {
    "images": 2000, "classes": [{"label": "Parasitized", "images": 1000}, {"label": "Uninfected", "images": 1000}],
    "imbalance_ratio": 1.0, "heights": {"min": 50, "median": 50, "max": 50},
    "widths": {"min": 50, "median": 50, "max": 50}, "bit_depths": [8], "channels": [3], "pages": [1],
    "profiled_images": 2000, **NO_DUPLICATES}
JURKAT_COUNTS = {"Anaphase": 15, "G1": 900, "G2": 900, "Metaphase": 69, "Prophase": 606, "S": 900, "Telophase": 28}


def _profile(root: Path) -> dict:
    return profile.profile_dataset(str(root), {"server_dir": str(root)})


def _request(**values) -> dict:
    return validated_request({"dataset": {"server_dir": "x"}, "budget_minutes": 1.0, **values}).model_dump(mode="json")


@pytest.fixture(scope="module")
def fields(tmp_path_factory) -> Path:
    """The two 1280x1024 16-bit DAPI fields in class folders, the second also copied under the first class."""
    root = tmp_path_factory.mktemp("fields")
    sources = sorted((DATASETS / "tiff16-samples").glob("*.tif"))
    for label, source in zip(("binucleate", "non_binu"), sources):
        (root / label).mkdir()
        shutil.copy(source, root / label / source.name)
    shutil.copy(sources[1], root / "binucleate" / "copy.tif")
    return root


def test_large_16_bit_fields_are_profiled_with_their_duplicate(fields):
    found = _profile(fields)
    assert found == {
        "images": 3, "classes": [{"label": "binucleate", "images": 2}, {"label": "non_binu", "images": 1}],
        "imbalance_ratio": 2.0, "heights": {"min": 1024, "median": 1024, "max": 1024},
        "widths": {"min": 1280, "median": 1280, "max": 1280}, "bit_depths": [16], "channels": [1], "pages": [1],
        "profiled_images": 3, "duplicate_images": 1, "duplicates_across_classes": 1,
        "duplicate_examples": [f"binucleate/copy.tif = non_binu/{sorted((fields / 'non_binu').iterdir())[0].name}"]}
    message = ParseDict(found, automl_pb2.DatasetProfile())  # as GetAutoML sends it; the CLI prints it first
    assert profile_text(message).splitlines()[2:] == [
        "images                 3",
        "classes                binucleate 2, non_binu 1",
        "imbalance              2.0:1",
        "height min/median/max  1024 / 1024 / 1024",
        "width min/median/max   1280 / 1280 / 1280",
        "bit depth              16",
        "channels               1",
        "pages                  1",
        "exact duplicates       1 (1 across classes)"]
    lines = profile.describe(found)
    assert lines[1] == ("dataset: sizes (h x w) min 1024x1280, median 1024x1280, max 1024x1280; 16-bit; "
                        "1 channel(s); 1 page(s) per file")
    assert lines[2].startswith("dataset: 1 exact duplicate(s), 1 of them under another class; e.g. binucleate/copy")


def test_malaria_crops_are_profiled():
    assert _profile(DATASETS / "malaria-cells-50") == MALARIA_PROFILE


def test_jurkat_pages_and_imbalance_are_profiled():
    found = _profile(DATASETS / "jurkat-cell-cycle")
    assert {c["label"]: c["images"] for c in found["classes"]} == JURKAT_COUNTS
    assert (found["images"], found["imbalance_ratio"]) == (3418, 60.0)
    assert (found["heights"], found["widths"]) == ({"min": 40, "median": 40, "max": 40},) * 2
    assert (found["bit_depths"], found["channels"], found["pages"]) == ([16], [1], [3])
    assert found["profiled_images"] == 1709  # every second file of 3418 (at most 2000 are read)
    assert found["duplicate_images"] == 0


def test_large_fields_are_searched_in_native_scale_tiles_with_percentile_scaling(fields):
    shaped, reasons = shape.shaped_request(_request(), _profile(fields))
    assert (shaped["tilings"], shaped["image_sizes"]) == (["native"], [128, 192, 256])
    assert shaped["scales"] == ["range", "percentile"]
    assert (shaped["metric"], shaped["pages"]) == ("balanced_accuracy", [])
    assert "search: ranking trials by balanced_accuracy (classes imbalanced 2.0:1; every trial weights its loss by " \
           "inverse class frequency)" in reasons
    trial = optuna.create_study().ask()
    config = search.trial_config(trial, AutoMLConfig.model_validate(shaped), 30.0, "m")
    assert config["tile"] == config["image_size"][0] in (128, 192, 256)  # tiles at native scale
    assert config["scale"] in ("range", "percentile") and trial.params["tiling"] == "native"


def test_small_crops_are_searched_whole_up_to_their_native_size():
    shaped, _ = shape.shaped_request(_request(), MALARIA_PROFILE)
    assert (shaped["tilings"], shaped["image_sizes"], shaped["scales"]) == (["none"], [32, 48, 50], ["range"])
    assert (shaped["metric"], shaped["pages"]) == ("accuracy", [])
    config = search.trial_config(optuna.create_study().ask(), AutoMLConfig.model_validate(shaped), 30.0, "m")
    assert config["tile"] == 0 and config["image_size"][0] in (32, 48, 50)


def test_multi_page_files_read_every_page_unless_the_request_chooses():
    jurkat = {**MALARIA_PROFILE, "pages": [3], "bit_depths": [16], "imbalance_ratio": 60.0,
              "heights": {"min": 40, "median": 40, "max": 40}, "widths": {"min": 40, "median": 40, "max": 40}}
    shaped, _ = shape.shaped_request(_request(), jurkat)
    assert (shaped["pages"], shaped["image_sizes"], shaped["metric"]) == ([0, 1, 2], [32, 40], "balanced_accuracy")
    assert _trial_config(shaped)["imbalance"] == "weighted_loss"
    chosen = _request(pages=[0, 1], image_sizes=[64], metric="accuracy", tilings=["native"], scales=["zscore"])
    shaped, reasons = shape.shaped_request(chosen, jurkat)
    assert {k: shaped[k] for k in ("pages", "image_sizes", "metric", "tilings", "scales")} == \
        {"pages": [0, 1], "image_sizes": [64], "metric": "accuracy", "tilings": ["native"], "scales": ["zscore"]}
    # Ranked by plain accuracy, no candidate weights the rare classes up: that would trade accuracy away.
    assert reasons == ["search: ranking trials by accuracy as asked (classes imbalanced 60.0:1): no trial weights "
                       "its loss, so the common classes count as often as they occur"]
    assert _trial_config(shaped)["imbalance"] == "none"


def _trial_config(shaped: dict) -> dict:
    return search.trial_config(optuna.create_study().ask(), AutoMLConfig.model_validate(shaped), 30.0, "m")


def test_semi_supervised_modes_are_left_out_when_the_images_are_tiled():
    side = {"min": 1024, "median": 1024, "max": 1024}
    fields = {**MALARIA_PROFILE, "heights": side, "widths": side}
    request = validated_request({"dataset": {"server_dir": "x", "unlabelled_dir": "u"},
                                 "budget_minutes": 1.0}).model_dump(mode="json")  # as the run stores it
    shaped, reasons = shape.shaped_request(request, fields)
    assert shaped["semi_supervised_modes"] == ["none"]
    assert "search: supervised trials only: pseudo-labels do not yet read pages or tiles" in reasons
    assert shape.shaped_request(request, MALARIA_PROFILE)[0]["semi_supervised_modes"] == ["none", "data", "model_data"]
