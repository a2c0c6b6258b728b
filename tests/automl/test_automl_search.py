"""The search space: a new study starts from the recipe known to learn from a few labels."""
from __future__ import annotations

from bioclass.server.automl import search
from bioclass.server.automl.request import validated_request


def _request(**values) -> dict:
    return validated_request({"dataset": {"server_dir": "x", "unlabelled_dir": "u"}, "budget_minutes": 1.0, **values})


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
