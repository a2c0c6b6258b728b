"""The search space: a new study starts from the recipe known to learn from a few labels, and keeps
it unless a trial beats it by more than the noise of its validation images."""
from __future__ import annotations

import numpy as np
import optuna
import pytest

from bioclass.server.automl import search, shape
from bioclass.server.automl.request import AutoMLConfig, validated_request
from test_profile import MALARIA_PROFILE


def _request(**values) -> AutoMLConfig:
    """A request as the search sees it: shaped by the profile of 50x50 crops."""
    request = validated_request({"dataset": {"server_dir": "x", "unlabelled_dir": "u"}, "budget_minutes": 1.0,
                                 **values})
    return AutoMLConfig.model_validate(shape.shaped_request(request.model_dump(mode="json"), MALARIA_PROFILE)[0])


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


def test_a_late_report_or_outcome_on_a_finished_trial_does_not_fail_the_run(tmp_path):
    """The run's end (or a restart) may finish a trial in the study while its job still reports: the late
    report is dropped, the late outcome logged, and the study keeps the trial as it was."""
    from bioclass.server.automl.budget import Budget
    from bioclass.server.automl.service import AutoMLService
    from bioclass.server.settings import Settings
    from bioclass.server.training.store import SUCCEEDED, JobRecord

    service = AutoMLService(Settings(work_dir=tmp_path), zoo=None)
    try:
        study = search.open_study(tmp_path / "study.sqlite3", 0)
        trial = study.ask()
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        assert search.report(trial, 0.5, 1) is False
        run = service.runs.create(_request().model_dump(mode="json"))
        job = JobRecord(id="j", state=SUCCEEDED, request={}, created=0.0, result={"history": [], "exports": []})
        service._tell(run, study, trial, job, False, 3.0, Budget(deadline=0.0, total_s=60.0))
        assert run.log == [f"trial {trial.number}: already finished in the study; its late outcome (succeeded) "
                           "is left out"]
        assert study.get_trials()[0].state == optuna.trial.TrialState.FAIL
    finally:
        service.close()


@pytest.mark.parametrize("epochs_done, epochs, trained_s, max_seconds, allowed", [
    (2, 60, 1.0, 100.0, False),  # the median pruner's old warm-up: far too early
    (29, 60, 10.0, 100.0, False),
    (30, 60, 10.0, 100.0, True),  # half its epochs
    (5, 60, 50.0, 100.0, True),  # half its training time
    (2, 60, 60.0, 100.0, False),  # never before a few epochs
    (3, 4, 0.0, 0.0, True),
])
def test_a_trial_is_pruned_only_after_its_fair_share(epochs_done, epochs, trained_s, max_seconds, allowed):
    assert search.may_prune(epochs_done, epochs, trained_s, max_seconds) is allowed


def test_classical_candidates_join_the_leaderboard_with_their_spread(tmp_path):
    study = search.open_study(tmp_path / "study.sqlite3", 0)
    request = _request(architectures=["classical:random_forest", "classical:logistic_regression"])
    validation = {"folds": 5, "images": 20, "validated": [1] * 20}
    candidates = [{"head": head, "scores": {"accuracy": scores}, "export_dir": f"/x/{head}", "seconds": 1.0,
                   "size_bytes": 2_000_000, "ms_per_image": 4.0}
                  for head, scores in (("logistic_regression", [0.5, 0.75, 0.5, 0.75, 1.0]),
                                       ("random_forest", [1.0, 1.0, 0.75, 1.0, 1.0]),
                                       ("gradient_boosting", [1.0] * 5))]
    for trial in search.classical_trials({"validation": validation, "candidates": candidates}, request, "job"):
        study.add_trial(trial)
    board = search.leaderboard(study)
    assert [row["architecture"] for row in board] == ["classical:random_forest", "classical:logistic_regression"]
    assert [row["value"] for row in board] == [0.95, 0.7]
    assert board[0]["value_sd"] == pytest.approx(0.1118, abs=1e-4) and board[0]["folds"] == 5
    assert board[0]["params"] == {} and search.has_classical(study)
    _finished(study, 0.8, 10)  # a network trial on one split of 10 images: the proportion's standard error
    assert search.leaderboard(study)[1]["value_sd"] == pytest.approx(((9 / 12) * (3 / 12) / 10) ** 0.5)
    assert search.networks(request) == [] and search.chosen_trial(study)[0].user_attrs["export_dir"] == \
        "/x/random_forest"


def _network(study, metric: float, semi_supervised: str = "none") -> None:
    attrs = {"metric": metric, "feasible": True, "val_images": 10, "job_id": f"j{len(study.trials)}"}
    params = {"architecture": "bioclass:small_cnn3", "semi_supervised": semi_supervised}
    distributions = {"architecture": optuna.distributions.CategoricalDistribution(["bioclass:small_cnn3"]),
                     "semi_supervised": optuna.distributions.CategoricalDistribution(["none", "data"])}
    study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=metric,
                                              user_attrs=attrs))


def test_finalists_are_chosen_by_their_cross_validation_estimates(tmp_path):
    """The split ranks 1.0 > 0.9 > 0.8 > 0.7; cross-validated, trial 1 (0.9 on its split) is the best network,
    and only cross-validated candidates compete for serving: the classical one beats the rest."""
    study = search.open_study(tmp_path / "study.sqlite3", 0)
    for metric in (1.0, 0.9, 0.8, 0.7):
        _network(study, metric)
    _network(study, 0.85, semi_supervised="data")  # its pseudo-labels come from its split: not a finalist
    assert [t.number for t in search.finalists(study, {})] == [0, 1, 2] and search.has_network_result(study)
    estimates = {"0": {"metric": 0.6, "metric_sd": 0.1, "folds": 5, "val_images": 40, "accuracy": 0.6},
                 "1": {"metric": 0.75, "metric_sd": 0.1, "folds": 5, "val_images": 40, "accuracy": 0.75}}
    assert [t.number for t in search.finalists(study, estimates)] == [2]
    chosen, why = search.chosen_trial(study, estimates)  # trial 4's 0.85 is below trial 1's 0.9 on the split
    assert (chosen.number, chosen.user_attrs["metric"], why) == (1, 0.75, "")
    board = search.leaderboard(study, estimates)
    assert [(row["number"], row["value"], row["folds"]) for row in board] == [
        (4, 0.85, 1), (2, 0.8, 1), (1, 0.75, 5), (3, 0.7, 1), (0, 0.6, 5)]
    row = next(row for row in board if row["number"] == 1)
    assert (row["value"], row["value_sd"], row["folds"]) == (0.75, 0.1, 5)
    assert row["note"] == "5-fold cross-validation; 0.9000 on its split"
    validation = {"folds": 5, "images": 40, "validated": [1] * 40}
    classical = [{"head": "random_forest", "scores": {"accuracy": [0.8] * 5}, "export_dir": "/x", "seconds": 1.0,
                  "size_bytes": 1000, "ms_per_image": 1.0}]
    request = _request(architectures=["classical:random_forest", "bioclass:small_cnn3"])
    (forest,) = search.classical_trials({"validation": validation, "candidates": classical}, request, "job")
    study.add_trial(forest)
    assert search.chosen_trial(study, estimates)[0].user_attrs["architecture"] == "classical:random_forest"
    assert search.chosen_trial(study)[0].number == 0  # without estimates: the split's best, as before
    _network(study, 1.0, semi_supervised="data")  # 1.0 on 10 images: at least 0.913 within one standard error
    chosen, why = search.chosen_trial(study, estimates)
    assert chosen.number == 6 and why == ("semi-supervised trial 6 (1.0000 on its split) is served over trial 5 "
                                          "(0.8000 over 5 folds): ahead by more than one standard error (0.087)")


def test_a_classical_candidate_ahead_of_every_network_needs_no_end_phase(tmp_path):
    study = search.open_study(tmp_path / "study.sqlite3", 0)
    _network(study, 0.7)
    assert search.candidate_ahead_of_networks(study) is None  # no candidate
    validation = {"folds": 1, "images": 40, "validated": [1] * 40}
    classical = [{"head": "random_forest", "scores": {"accuracy": [0.8]}, "export_dir": "/x", "seconds": 1.0,
                  "size_bytes": 1000, "ms_per_image": 1.0}]
    request = _request(architectures=["classical:random_forest", "bioclass:small_cnn3"])
    (forest,) = search.classical_trials({"validation": validation, "candidates": classical}, request, "job")
    study.add_trial(forest)
    assert search.candidate_ahead_of_networks(study).number == 1
    _network(study, 0.95, semi_supervised="data")  # not a finalist: no retraining either way
    assert search.candidate_ahead_of_networks(study).number == 1
    _network(study, 0.8)  # a tie goes to the network: it keeps its end phase
    assert search.candidate_ahead_of_networks(study) is None


def test_the_forest_is_kept_over_a_candidate_ahead_by_less_than_one_standard_error(tmp_path):
    """wbc, 84 validation images: gradient boosting 0.952 against the forest's 0.940 is one image."""
    validation = {"folds": 1, "images": 84, "validated": [1] * 84}
    request = _request(architectures=["classical:random_forest", "classical:gradient_boosting",
                                      "bioclass:small_cnn3"])

    def heads(forest: float, boosting: float) -> list[dict]:
        return [{"head": head, "scores": {"accuracy": [value]}, "export_dir": f"/x/{head}", "seconds": 1.0,
                 "size_bytes": 1000, "ms_per_image": 1.0}
                for head, value in (("random_forest", forest), ("gradient_boosting", boosting))]

    study = search.open_study(tmp_path / "close.sqlite3", 0)
    for trial in search.classical_trials({"validation": validation, "candidates": heads(79 / 84, 80 / 84)},
                                         request, "job"):
        study.add_trial(trial)
    chosen, why = search.chosen_trial(study)
    assert chosen.user_attrs["architecture"] == "classical:random_forest"
    assert why.startswith("the random forest on handcrafted features (trial 0, 0.9405) is kept over trial 1 "
                          "(0.9524): within one standard error (0.026) on 84 validation images"), why
    _network(study, 1.0)  # 10 of 10 validation images: still within one standard error (0.077) of the forest
    assert search.chosen_trial(study)[0].number == 0

    study = search.open_study(tmp_path / "clear.sqlite3", 0)
    for trial in search.classical_trials({"validation": validation, "candidates": heads(70 / 84, 80 / 84)},
                                         request, "job"):
        study.add_trial(trial)
    assert search.chosen_trial(study)[0].user_attrs["architecture"] == "classical:gradient_boosting"


def test_retraining_runs_the_epochs_early_stopping_kept():
    history = [{"stage": "head", "epoch": 1, "val_loss": 0.1}] + \
        [{"stage": "train", "epoch": e, "val_loss": loss} for e, loss in enumerate((0.9, 0.5, 0.4, 0.6, 0.7), 1)]
    assert search.best_epochs(history) == 3
    assert search.best_epochs([{"stage": "train", "epoch": e, "val_loss": float("nan")} for e in (1, 2)]) == 2


def test_the_end_phase_is_kept_once_a_network_trial_has_finished():
    import time

    from bioclass.server.automl.budget import Budget

    short = Budget(deadline=time.monotonic() + 60.0, total_s=60.0)
    short.plan_end(cross_validate=True, networks=True)
    assert short.end_s == 0.0  # under two minutes the trial's own export is served
    budget = Budget(deadline=time.monotonic() + 300.0, total_s=300.0)
    budget.plan_end(cross_validate=True, networks=True)
    assert budget.end_s == pytest.approx(0.4 * 270.0)
    assert budget.left() == pytest.approx(270.0, abs=1.0)  # no network trial yet: the search may use it all
    budget.network_finished = True
    assert budget.left() == pytest.approx(270.0 - 108.0, abs=1.0)
    assert budget.fold_seconds(trained_s=5.0, limit_s=30.0, folds=5, kept_s=30.0) == 30.0
    assert budget.fold_seconds(trained_s=5.0, limit_s=30.0, folds=5, kept_s=250.0) == 0.0
    assert budget.fold_seconds(trained_s=5.0, limit_s=60.0, folds=5, kept_s=150.0) == pytest.approx(18.5, abs=0.5)
    assert budget.fold_seconds(trained_s=30.0, limit_s=60.0, folds=5, kept_s=150.0) == 0.0  # a fold cut short
    left = budget.end_left() - budget.overhead_s  # about 270 s: the run's whole time is still ahead
    assert budget.retrain_seconds(trained_s=100.0, limit_s=120.0) == 120.0
    assert budget.retrain_seconds(trained_s=0.95 * left, limit_s=0.0) == pytest.approx(left, abs=1.0)
    assert budget.retrain_seconds(trained_s=1.2 * left, limit_s=0.0) == 0.0  # cut short: the trial's export is served


def test_the_end_phase_keeps_only_what_it_will_use():
    import time

    from bioclass.server.automl.budget import Budget

    budget = Budget(deadline=time.monotonic() + 300.0, total_s=300.0, overhead_s=10.0, fold_slack_s=1.0)
    budget.plan_end(cross_validate=True, networks=True)
    budget.network_finished = True
    # A 10 s retraining (2 * 10 + 10 s kept for it): five folds of 8 s each fit the 108 s share (+ 10 + 5 * 9).
    assert budget.plan_need(10.0, [3, 5]) == 5
    assert budget.end_s == pytest.approx(30.0 + 10.0 + 5 * 9.0)
    assert budget.left() == pytest.approx(270.0 - 85.0, abs=1.0)
    # A 20 s retraining: five folds of 16 s do not fit (40 + 95 s), three of 13.3 s do (40 + 53 s).
    assert budget.plan_need(20.0, [3, 5]) == 3
    assert budget.end_s == pytest.approx(40.0 + 10.0 + 3 * (20.0 * 2 / 3 + 1.0))
    # A 80 s retraining: no cross-validation fits; the search gets all but the retraining back.
    assert budget.plan_need(80.0, [3, 5]) == 0
    assert budget.end_s == pytest.approx(100.0)
    assert budget.plan_need(200.0, []) == 0
    assert budget.end_s == pytest.approx(108.0)  # never more than the end phase's share
    assert budget.plan_need(None, [3, 5]) == 0 and budget.end_s == 0.0  # nothing to retrain
    # Short trainings are kept MIN_TRAINING_S each: the checks before a fold or the retraining ask that much.
    assert budget.plan_need(1.0, [5]) == 5
    assert budget.end_s == pytest.approx(20.0 + 4.0 + 10.0 + 5 * 5.0)


def test_a_semi_supervised_trials_pseudo_labelling_is_learned_apart_from_the_overhead():
    """Pseudo-labelling is not a trial's overhead: counted there, one semi-supervised trial (45 s for 15 s of
    training) made every later supervised trial, fold and retraining look 30 s dearer."""
    import time

    from bioclass.server.automl.budget import MIN_TRAINING_S, Budget

    budget = Budget(deadline=time.monotonic() + 60.0, total_s=300.0, overhead_s=5.0)  # 30 s left before the reserve
    budget.measured(wall_s=10.0, training_s=6.0)
    assert budget.overhead_s == pytest.approx(4.5)  # the larger of 4 s and the mean with the first guess
    budget.measured(wall_s=45.0, training_s=15.0, semi_supervised=True)
    assert (budget.overhead_s, budget.semi_extra_s) == (pytest.approx(4.5), pytest.approx(25.5))
    assert budget.trial_seconds() == pytest.approx(30.0 - 4.5, abs=1.0)
    assert budget.trial_seconds(semi_supervised=True) == MIN_TRAINING_S  # its pseudo-labelling takes the rest
    budget.measured(wall_s=25.0, training_s=10.0, semi_supervised=True)  # 10.5 s past the overhead this time
    assert budget.semi_extra_s == pytest.approx(18.0)  # the mean, as it is larger than the last


def test_ranking_folds_are_capped_when_asked():
    from bioclass.server.automl import folds

    targets = np.repeat([0, 1], 10)
    splits = ["train"] * 16 + ["val"] * 4
    assert len(folds.ranking_folds(targets, None, splits, seed=0)) == 5
    three = folds.ranking_folds(targets, None, splits, seed=0, most=3)
    assert len(three) == 3
    assert sorted(np.concatenate([val for _, val in three]).tolist()) == list(range(20))
    assert len(folds.ranking_folds(targets, None, splits, seed=0, most=1)) == 1  # the run's split


def test_heads_on_features_are_cross_validated_past_the_networks_limit():
    """420 images: networks are ranked on the run's split, heads on precomputed features in 5 folds."""
    from bioclass.server.automl import folds

    targets = np.repeat([0, 1, 2, 3], 105)
    splits = (["train"] * 84 + ["val"] * 21) * 4
    (networks,) = folds.ranking_folds(targets, None, splits, seed=0)
    assert len(networks[1]) == 84 and splits[networks[1][0]] == "val"
    on_features = folds.ranking_folds(targets, None, splits, seed=0, largest=folds.FEATURES_CV_MAX_IMAGES)
    assert len(on_features) == 5
    assert sorted(np.concatenate([val for _, val in on_features]).tolist()) == list(range(420))
    many = np.repeat([0, 1], folds.FEATURES_CV_MAX_IMAGES // 2)
    assert len(folds.ranking_folds(many, None, ["train", "val"] * (len(many) // 2), seed=0,
                                   largest=folds.FEATURES_CV_MAX_IMAGES)) == 1


def test_a_network_must_beat_the_best_classical_candidate_by_more_than_one_standard_error(tmp_path):
    """jurkat, 479 validation images: resnet10t 0.590 against logistic regression's 0.589 is noise, and the
    network would still have to be retrained; logistic regression (itself clearly ahead of the forest) is
    served. A network clearly ahead is served."""
    validation = {"folds": 1, "images": 479, "validated": [1] * 479}
    request = _request(architectures=["classical:random_forest", "classical:logistic_regression",
                                      "bioclass:small_cnn3"])
    candidates = [{"head": head, "scores": {"accuracy": [value]}, "export_dir": f"/x/{head}", "seconds": 1.0,
                   "size_bytes": 1000, "ms_per_image": 1.0}
                  for head, value in (("random_forest", 0.553), ("logistic_regression", 0.589))]
    study = search.open_study(tmp_path / "jurkat.sqlite3", 0)
    for trial in search.classical_trials({"validation": validation, "candidates": candidates}, request, "job"):
        study.add_trial(trial)

    attrs = {"metric": 0.590, "feasible": True, "val_images": 479, "job_id": "net"}
    study.add_trial(optuna.trial.create_trial(
        params={"architecture": "resnet10t", "semi_supervised": "none"}, value=0.590, user_attrs=attrs,
        distributions={"architecture": optuna.distributions.CategoricalDistribution(["resnet10t"]),
                       "semi_supervised": optuna.distributions.CategoricalDistribution(["none"])}))
    chosen, why = search.chosen_trial(study)
    assert chosen.user_attrs["architecture"] == "classical:logistic_regression", why
    assert why.startswith("classical:logistic_regression (trial 1, 0.5890) is kept over trial 2 (0.5900): within "
                          "one standard error (0.022) on 479 validation images"), why

    attrs = {**attrs, "metric": 0.65, "job_id": "net2"}
    study.add_trial(optuna.trial.create_trial(
        params={"architecture": "resnet10t", "semi_supervised": "none"}, value=0.65, user_attrs=attrs,
        distributions={"architecture": optuna.distributions.CategoricalDistribution(["resnet10t"]),
                       "semi_supervised": optuna.distributions.CategoricalDistribution(["none"])}))
    assert search.chosen_trial(study) == (study.get_trials()[3], "")


@pytest.mark.parametrize("classical", [["classical:soft_vote"], ["classical:random_forest", "classical:soft_vote"]])
def test_a_soft_vote_needs_two_classical_heads_to_average(classical):
    from bioclass.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="classical:soft_vote averages the other classical heads"):
        validated_request({"dataset": {"server_dir": "x"}, "budget_minutes": 1.0,
                           "architectures": ["small_cnn3", *classical]})
    validated_request({"dataset": {"server_dir": "x"}, "budget_minutes": 1.0,
                       "architectures": ["classical:logistic_regression", "classical:random_forest", *classical]})


def test_a_trial_scored_on_one_split_reports_the_split_and_its_standard_error(tmp_path):
    """A spread over one split would read "± 0.0000"; the log gives the split's size and the binomial
    error the ranking uses instead. Over folds it stays the spread of the folds."""
    request = _request(architectures=["classical:random_forest", "classical:logistic_regression"])
    candidates = [{"head": head, "scores": {"accuracy": values}, "export_dir": f"/x/{head}", "seconds": 1.0,
                   "size_bytes": 1000, "ms_per_image": 1.0}
                  for head, values in (("random_forest", [0.553]), ("logistic_regression", [0.6, 0.8]))]
    one_split = search.classical_trials({"validation": {"folds": 1, "images": 479, "validated": [1] * 479},
                                         "candidates": candidates[:1]}, request, "job")[0]
    folds = search.classical_trials({"validation": {"folds": 2, "images": 40, "validated": [20, 20]},
                                     "candidates": candidates[1:]}, request, "job")[0]
    study = search.open_study(tmp_path / "spread.sqlite3", 0)
    study.add_trial(one_split)
    study.add_trial(folds)
    split_text, folds_text = (search.estimate_text(trial, "accuracy") for trial in study.trials)

    assert split_text == f"accuracy 0.5530 ± {search.standard_error(study.trials[0]):.4f} (one split of 479 images)"
    assert 0.02 < search.standard_error(study.trials[0]) < 0.025  # sqrt(0.553 * 0.447 / 479) = 0.0227
    assert folds_text == "accuracy 0.7000 ± 0.1414 (2 folds)"  # the sample standard deviation of 0.6 and 0.8
