"""The search space: a new study starts from the recipe known to learn from a few labels, and keeps
it unless a trial beats it by more than the noise of its validation images."""
from __future__ import annotations

import optuna
import pytest

from bioclass.server.automl import search, shape
from bioclass.server.automl.request import validated_request
from test_profile import MALARIA_PROFILE


def _request(**values) -> dict:
    """A request as the search sees it: shaped by the profile of 50x50 crops."""
    request = validated_request({"dataset": {"server_dir": "x", "unlabelled_dir": "u"}, "budget_minutes": 1.0,
                                 **values})
    return shape.shaped_request(request, MALARIA_PROFILE)[0]


def test_a_new_study_starts_with_the_few_label_recipe(tmp_path):
    study = search.open_study(tmp_path / "study.sqlite3", 0)
    request = _request()
    search.start_from_known_recipe(study, request)
    config = search.trial_config(study.ask(), request, 30.0, "m")
    assert (config["arch"], config["epochs"], config["image_size"]) == ("bioclass:small_cnn3", 60, (48, 48))
    assert config["semi_supervised"] == "" and config["learning_rate"] == search.STARTING_POINT["learning_rate"]


def test_the_starting_point_keeps_to_the_request_and_to_new_studies(tmp_path):
    study = search.open_study(tmp_path / "a.sqlite3", 0)
    search.start_from_known_recipe(study, _request(architectures=["resnet10t"]))
    assert not study.get_trials()
    request = _request(semi_supervised_modes=["data"], image_sizes=[64])
    search.start_from_known_recipe(study, request)
    config = search.trial_config(study.ask(), request, 30.0, "m")
    assert (config["semi_supervised"], config["image_size"]) == ("data", (64, 64))
    search.start_from_known_recipe(study, request)  # a resumed study is not queued again
    assert len(study.get_trials()) == 1


def _finished(study, metric: float, val_images: int, starting_point: bool = False) -> None:
    attrs = {"metric": metric, "feasible": True, "val_images": val_images, "starting_point": starting_point}
    study.add_trial(optuna.trial.create_trial(value=metric, user_attrs=attrs))


@pytest.mark.parametrize("other, val_images, recipe_kept", [(0.9, 10, True), (1.0, 10, False), (0.9, 100, False),
                                                             (0.7, 10, True)])
def test_the_recipe_is_kept_unless_a_trial_beats_it_by_more_than_one_standard_error(tmp_path, other, val_images,
                                                                                    recipe_kept):
    study = search.open_study(tmp_path / "study.sqlite3", 0)
    _finished(study, 0.8, val_images, starting_point=True)
    _finished(study, other, val_images)
    chosen, why = search.chosen_trial(study)
    assert chosen.number == (0 if recipe_kept else 1)
    assert ("within one standard error" in why) == (recipe_kept and other > 0.8)


def test_without_a_recipe_or_a_count_the_best_trial_is_served(tmp_path):
    study = search.open_study(tmp_path / "study.sqlite3", 0)
    assert search.chosen_trial(study) == (None, "")
    _finished(study, 0.8, 0, starting_point=True)
    _finished(study, 0.85, 0)
    assert search.chosen_trial(study)[0].number == 1
