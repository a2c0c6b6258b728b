"""The Optuna side of AutoML: the study in SQLite, the search space, and the leaderboard.

Plain Python (Optuna, no torch): it runs in the server process, which asks the study for a trial,
turns its parameters into a training configuration, and tells it the outcome.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.exceptions import UpdateFinishedTrialError  # noqa: F401 - caught by the service
from optuna.trial import TrialState

from bioclass.server.automl.request import AutoMLConfig
from bioclass.server.classical.spec import ARCHITECTURES as CLASSICAL
from bioclass.server.automl.folds import CV_MAX_IMAGES, MAX_FOLDS
from bioclass.server.classical.spec import FROZEN_PREFIX, HEADS
from bioclass.server.automl.space import (  # noqa: F401 - re-exported for callers of search
    AUGMENTATION, COMPACT, DEFAULT_ARCHITECTURES, DEFAULT_IMAGE_SIZES, DEFAULT_SEMI_SUPERVISED, EPOCHS, FEW_LABELS,
    METRICS, SEMI_SUPERVISED, STANDARD, STARTING_POINT)

_STATE_NAMES = {TrialState.RUNNING: "running", TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
                TrialState.FAIL: "failed", TrialState.WAITING: "running"}

optuna.logging.set_verbosity(optuna.logging.WARNING)
# A trial is judged by the pruner only after this share of its epochs or of its training time: the
# median pruner stopped trials after 2 epochs, before a network on a few dozen images learns anything.
FAIR_SHARE = 0.5
MIN_EPOCHS_BEFORE_PRUNING = 3


def open_study(path: Path, seed: int) -> optuna.Study:
    """Create or reopen the run's study; trials a stopped server left running count as failed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name="automl", storage=f"sqlite:///{path}", direction="maximize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=4),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    for stale in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study._storage.set_trial_user_attr(stale._trial_id, "note", "interrupted by a server restart")
        study.tell(stale.number, state=TrialState.FAIL)
    return study


def start_from_known_recipe(study: optuna.Study, request: AutoMLConfig) -> None:
    """Queue STARTING_POINT as a new study's first trial, if the request allows its choices."""
    if study.get_trials(deepcopy=False) or STARTING_POINT["architecture"] not in request.architectures:
        return
    modes = _modes(request)
    sizes = sorted(request.image_sizes)
    study.enqueue_trial({**STARTING_POINT, "image_size": sizes[len(sizes) // 2],
                         "semi_supervised": STARTING_POINT["semi_supervised"] if "none" in modes else modes[0]},
                        user_attrs={"starting_point": True})


def _modes(request: AutoMLConfig) -> list[str]:
    return request.semi_supervised_modes if request.dataset.unlabelled_dir else ["none"]


def imbalance(request: AutoMLConfig) -> str:
    """How every candidate treats imbalanced classes: a weighted loss (and balanced classical heads) unless
    the run ranks by plain accuracy, which rewards fitting the classes' frequencies instead (on jurkat's
    57:1 cells the weighted heads gave up 1-5 points of accuracy for 7-9 of balanced accuracy). On
    balanced classes the two are the same."""
    return "none" if request.metric == "accuracy" else "weighted_loss"


def trial_config(trial: optuna.Trial, request: AutoMLConfig, seconds: float, model_id: str,
                 few_images: bool = False) -> dict:
    """A TrainConfig (as a dict) from the trial's suggestions. On a few images (few_images: the dataset is
    cross-validated) no early stopping: a validation split of a few images stops a trial at its first
    noisy epochs (on 16 malaria crops per class the recipe's 5-fold accuracy was 0.53 with a patience of
    3, at chance, and 0.88 without), and the best epoch is kept all the same."""
    size = trial.suggest_categorical("image_size", request.image_sizes)
    mode = trial.suggest_categorical("semi_supervised", _modes(request))
    config = {
        "arch": trial.suggest_categorical("architecture", networks(request)),
        "learning_rate": trial.suggest_float("learning_rate", 3e-4, 3e-2, log=True),
        "augmentation": AUGMENTATION[trial.suggest_categorical("augmentation", list(AUGMENTATION))],
        "epochs": trial.suggest_int("epochs", *EPOCHS, log=True),
        "image_size": (size, size), "semi_supervised": "" if mode == "none" else mode,
        "model_id": model_id, "max_seconds": seconds, "val_fraction": request.val_fraction, "test_fraction": 0.0,
        "seed": request.seed, "threads": request.threads, "serve_format": "onnx", "batch_size": 32,
        "imbalance": imbalance(request), **({"patience": -1} if few_images else {}),
    }
    # Suggested after the others, so a seeded study draws its other parameters as before.
    tiling = trial.suggest_categorical("tiling", request.tilings or ["none"])
    config.update(scale=trial.suggest_categorical("scale", request.scales or ["range"]),
                  tile=size if tiling == "native" else 0, pages=request.pages)
    return config


def report(trial: optuna.Trial, value: float, step: int) -> bool:
    """Report an epoch's validation value; False when the study already holds the trial as finished
    (the run's end raced the trial's last epoch), so a late report never fails the run."""
    try:
        if math.isfinite(value):
            trial.report(value, step)
    except UpdateFinishedTrialError:
        return False
    return True


def may_prune(epochs_done: int, epochs: int, trained_s: float, max_seconds: float) -> bool:
    """Whether the trial has had its fair share of epochs or of its training time."""
    if epochs_done >= max(MIN_EPOCHS_BEFORE_PRUNING, FAIR_SHARE * epochs):
        return True
    return bool(max_seconds) and epochs_done >= MIN_EPOCHS_BEFORE_PRUNING and trained_s >= FAIR_SHARE * max_seconds


def has_classical(study: optuna.Study) -> bool:
    """Whether the study holds the classical candidates already (a resumed run does not redo them)."""
    return any("classical" in t.params for t in study.get_trials(deepcopy=False))


def has_frozen(study: optuna.Study) -> bool:
    """Whether the study holds the frozen-features candidates already."""
    return any("frozen" in t.params for t in study.get_trials(deepcopy=False))


def has_network_result(study: optuna.Study) -> bool:
    """Whether a network trial has finished (the run's end phase then has work to do)."""
    return any("architecture" in t.params for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def networks(request: AutoMLConfig) -> list[str]:
    """The request's network architectures (the trials the sampler chooses between)."""
    return [arch for arch in request.architectures if arch not in CLASSICAL and not arch.startswith(FROZEN_PREFIX)]


def classical_heads(request: AutoMLConfig) -> list[str]:
    return [head for head, arch in zip(HEADS, CLASSICAL) if arch in request.architectures]


def frozen_backbones(request: AutoMLConfig) -> list[str]:
    """The backbones of the request's frozen:<backbone> candidates."""
    return [arch.removeprefix(FROZEN_PREFIX) for arch in request.architectures if arch.startswith(FROZEN_PREFIX)]


def classical_trials(result: dict, request: AutoMLConfig, job_id: str) -> list[optuna.trial.FrozenTrial]:
    """One finished trial per classical candidate the request asked for, valued by its mean over the
    validation folds; its own parameter (not "architecture"), so the sampler's choices stay the networks'."""
    return [_candidate_trial(c, result["validation"], request, job_id, "classical", c["head"], HEADS,
                             f"classical:{c['head']}")
            for c in result["candidates"] if c["head"] in classical_heads(request)]


def frozen_trial(result: dict, request: AutoMLConfig, job_id: str, backbone: str) -> optuna.trial.FrozenTrial:
    """The frozen-features candidate of one backbone as a finished trial, ranked like the classical ones."""
    (candidate,) = result["candidates"]
    return _candidate_trial(candidate, result["validation"], request, job_id, "frozen", backbone,
                            tuple(frozen_backbones(request)), f"{FROZEN_PREFIX}{backbone}")


def _candidate_trial(candidate: dict, validation: dict, request: AutoMLConfig, job_id: str, param: str, choice: str,
                     choices: tuple[str, ...], architecture: str) -> optuna.trial.FrozenTrial:
    mean, spread = mean_and_spread(candidate["scores"][request.metric])
    attrs = {"metric": mean, "metric_sd": spread, "folds": validation["folds"],
             "val_images": sum(validation["validated"]), "model_mb": candidate["size_bytes"] / 1e6,
             "latency_ms": candidate["ms_per_image"], "feasible": True, "job_id": job_id,
             "seconds": candidate["seconds"], "architecture": architecture,
             "export_dir": candidate["export_dir"], "accuracy": mean_and_spread(candidate["scores"]["accuracy"])[0]}
    if candidate.get("members"):  # a soft vote: which heads it averages
        attrs["note"] = f"the mean of {', '.join(candidate['members'])}"
    broken = _broken_limits(attrs, request)
    if broken:
        attrs.update(feasible=False, note=broken)
    value = (mean - 10.0 if broken else mean) if math.isfinite(mean) else -10.0
    return optuna.trial.create_trial(params={param: choice}, distributions={param: CategoricalDistribution(choices)},
                                     value=value, user_attrs=attrs)


def mean_and_spread(scores: list[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (0 for one score)."""
    mean = float(sum(scores) / len(scores))
    spread = math.sqrt(sum((v - mean) ** 2 for v in scores) / (len(scores) - 1)) if len(scores) > 1 else 0.0
    return mean, spread


# ---- the finalists: network trials re-scored by cross-validation ----------------------------------------

FINALISTS = 3  # network trials re-scored by k-fold cross-validation on a small dataset


def cross_validates(profile: dict) -> bool:
    """Whether a dataset is small enough for its finalists to be ranked by k-fold cross-validation."""
    return 0 < profile.get("images", 0) < CV_MAX_IMAGES


def expected_folds(profile: dict) -> int:
    """The folds folds.ranking_folds makes of the profiled classes (a group pattern may make fewer)."""
    return min(MAX_FOLDS, min((c["images"] for c in profile.get("classes", [])), default=0))


def finalists(study: optuna.Study, estimates: dict[str, dict], count: int = FINALISTS
              ) -> list[optuna.trial.FrozenTrial]:
    """The best supervised network trials by their validation split, not yet cross-validated. (A
    semi-supervised trial's pseudo-labels come from its own split: it keeps its split's estimate.)"""
    networks_done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                     if "architecture" in t.params and t.params.get("semi_supervised") == "none"
                     and t.user_attrs.get("feasible", False)]
    best = sorted(networks_done, key=lambda t: (-t.user_attrs["metric"], t.number))[:count]
    return [t for t in best if str(t.number) not in estimates]


def candidate_ahead_of_networks(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best classical or frozen-features candidate when it validates above every supervised network
    trial so far (served as it is, it needs no end phase), else None."""
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs.get("feasible", False)]
    candidates = [t for t in done if "export_dir" in t.user_attrs]
    best = max(candidates, key=lambda t: t.user_attrs["metric"], default=None)
    networks = finalists(study, {}, count=1)
    if best is None or (networks and networks[0].user_attrs["metric"] >= best.user_attrs["metric"]):
        return None
    return best


def estimate(result: dict, request: AutoMLConfig) -> dict:
    """A finalist's cross-validation job result as the trial's estimate (what the leaderboard shows)."""
    mean, spread = mean_and_spread(result["scores"][request.metric])
    return {"metric": mean, "metric_sd": spread, "folds": result["folds"], "val_images": result["images"],
            "accuracy": mean_and_spread(result["scores"]["accuracy"])[0]}


def with_estimates(trials: list[optuna.trial.FrozenTrial], estimates: dict[str, dict]
                   ) -> list[optuna.trial.FrozenTrial]:
    """Trials with their cross-validation estimate in place of their split's, which the note keeps."""
    changed = []
    for trial in trials:
        found = estimates.get(str(trial.number))
        if found is not None:
            trial = copy.deepcopy(trial)
            split = trial.user_attrs["metric"]
            trial.user_attrs = {**trial.user_attrs, **found, "split_metric": split,
                                "note": f"{found['folds']}-fold cross-validation; {split:.4f} on its split"}
        changed.append(trial)
    return changed


def best_epochs(history: list[dict]) -> int:
    """The epochs a trial's early stopping kept: its best validation loss in the main stage (all it ran
    when no loss was measured)."""
    main = [h for h in history if h.get("stage") == "train"]
    finite = [h for h in main if math.isfinite(h.get("val_loss", math.nan))]
    if not finite:
        return max(1, len(main))
    return min(finite, key=lambda h: (h["val_loss"], h["epoch"]))["epoch"]


def outcome(result: dict, request: AutoMLConfig) -> tuple[float, dict]:
    """The validation metric and the trial's notes; a broken limit makes the value worse than any other."""
    metric = request.metric
    evaluation = result["evaluation"]
    on_val = evaluation.get("split") == "val"
    value = float(evaluation[metric]) if on_val else _best_val_accuracy(result)
    onnx = next(e for e in result["exports"] if e["format"] == "onnx")
    attrs = {"model_mb": onnx["size_bytes"] / 1e6, "latency_ms": onnx["ms_per_image"], "metric": value,
             "feasible": True, "val_images": int(sum(map(sum, evaluation.get("confusion", [])))) if on_val else 0}
    broken = _broken_limits(attrs, request)
    if broken:
        attrs.update(feasible=False, note=broken)
        value -= 10.0  # below any metric: the sampler learns to avoid it, the leaderboard shows why
    return (value if math.isfinite(value) else -10.0), attrs


def _best_val_accuracy(result: dict) -> float:
    values = [h["val_accuracy"] for h in result.get("history", []) if math.isfinite(h.get("val_accuracy", math.nan))]
    return max(values, default=math.nan)


def _broken_limits(attrs: dict, request: AutoMLConfig) -> str:
    broken = []
    if request.max_model_mb and attrs["model_mb"] > request.max_model_mb:
        broken.append(f"model {attrs['model_mb']:.2f} MB > {request.max_model_mb} MB")
    if request.max_latency_ms and attrs["latency_ms"] > request.max_latency_ms:
        broken.append(f"latency {attrs['latency_ms']:.2f} ms > {request.max_latency_ms} ms")
    return "; ".join(broken)


REFERENCE_CLASSICAL = "classical:random_forest"


def chosen_trial(study: optuna.Study, estimates: dict[str, dict] | None = None
                 ) -> tuple[optuna.trial.FrozenTrial | None, str]:
    """The trial to serve, and why when it is not the top of the leaderboard.

    The best by the metric, unless a reference scored within one standard error of it: the
    one-standard-error rule of model selection. The references are the choices known to generalise:
    the few-label recipe (the study's first trial) and the random forest on handcrafted features
    (WND-CHARM's classifier). On a few validation images such a difference is noise (one image of
    ten is 10 points; on malaria-cells-50 the run served a trial at 0.9 on 10 images that reached
    0.706 on the test patients, where the recipe, at 0.8, reaches 0.87; on blood-cells-wbc gradient
    boosting led the forest by one of 84 validation images and scored 0.978 on the test cells, the
    forest 0.989). With cross-validation estimates (a small dataset's finalists) the choice is made
    among the cross-validated candidates (classical and frozen-features ones on the profile's folds,
    finalists in as many of them as fit the end phase, or three). A
    semi-supervised trial (its pseudo-labels come from its split: not cross-validated) replaces it only
    when its split score less one standard error is above the chosen one's split score (a classical
    candidate's estimate): split scores are compared with split scores, which they exceed.
    """
    done = [t for t in with_estimates(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                                      estimates or {})
            if t.user_attrs.get("feasible", False)]
    if not estimates:
        return _recipe_or_best(done)
    chosen, why = _recipe_or_best([t for t in done if t.user_attrs.get("folds", 1) > 1])
    semi_supervised = [t for t in done if t.params.get("semi_supervised", "none") != "none"]
    challenger = max(semi_supervised, key=lambda t: (t.user_attrs["metric"] - standard_error(t), -t.number),
                     default=None)
    if chosen is None or challenger is None:
        return chosen or challenger, why
    margin, split = standard_error(challenger), "split_metric" in chosen.user_attrs
    reference = chosen.user_attrs["split_metric" if split else "metric"]
    if challenger.user_attrs["metric"] - margin <= reference:
        return chosen, why
    return challenger, (f"semi-supervised trial {challenger.number} ({challenger.user_attrs['metric']:.4f} on its "
                        f"split) is served over trial {chosen.number} ({reference:.4f} "
                        + ("on its split" if split else f"over {chosen.user_attrs['folds']} folds")
                        + f"): ahead by more than one standard error ({margin:.3f})")


def _recipe_or_best(done: list[optuna.trial.FrozenTrial]) -> tuple[optuna.trial.FrozenTrial | None, str]:
    best = max(done, key=lambda t: (t.user_attrs["metric"], -t.number), default=None)
    if best is None or _reference(best):
        return best, ""
    margin = standard_error(best)
    within = [t for t in done if t.user_attrs["metric"] >= best.user_attrs["metric"] - margin]
    kept = max((t for t in within if _reference(t)), key=lambda t: (t.user_attrs["metric"], -t.number), default=None)
    if kept is None and not _on_features(best):
        # A network must beat the features by more than noise too: a head on features is served as
        # validated, a network is retrained first (on jurkat a resnet10t one image ahead of logistic
        # regression had its retraining cut at the run's end and lost 4 points on the test cells).
        on_features = [t for t in within if _on_features(t)]
        if on_features:
            kept, _ = _recipe_or_best(on_features)  # among them, the forest within noise as above
    if kept is None:
        return best, ""
    how = f"over {best.user_attrs['folds']} folds" if best.user_attrs.get("folds", 1) > 1 else "on"
    return kept, (f"{_reference(kept) or _described(kept)} (trial {kept.number}, {kept.user_attrs['metric']:.4f}) "
                  f"is kept over trial {best.number} ({best.user_attrs['metric']:.4f}): within one standard error "
                  f"({margin:.3f}) {how} {best.user_attrs['val_images']} validation images")


def _on_features(trial: optuna.trial.FrozenTrial) -> bool:
    """A classical head on handcrafted features, or a linear head on a frozen network's features."""
    return trial.user_attrs.get("architecture", "").startswith(("classical:", FROZEN_PREFIX))


def _described(trial: optuna.trial.FrozenTrial) -> str:
    return trial.user_attrs.get("architecture", f"trial {trial.number}")


def _reference(trial: optuna.trial.FrozenTrial) -> str:
    """What the trial is when it is one of the references chosen_trial prefers within noise, else ""."""
    if trial.user_attrs.get("starting_point"):
        return "the few-label recipe"
    if trial.user_attrs.get("architecture") == REFERENCE_CLASSICAL:
        return "the random forest on handcrafted features"
    return ""


def standard_error(trial: optuna.trial.FrozenTrial) -> float:
    """Of a trial's metric read as a proportion of its validation images, Laplace-smoothed (a perfect
    score on 10 images is not a certainty), or over its cross-validation folds when larger; 0 when the
    count is unknown."""
    count, folds = trial.user_attrs.get("val_images", 0), trial.user_attrs.get("folds", 1)
    if not count:
        return 0.0
    p = (trial.user_attrs["metric"] * count + 1) / (count + 2)
    proportion = math.sqrt(p * (1 - p) / count)
    return max(proportion, trial.user_attrs["metric_sd"] / math.sqrt(folds)) if folds > 1 else proportion


def estimate_text(trial: optuna.trial.FrozenTrial, metric: str) -> str:
    """The trial's score for the run's log: the spread over its folds, or, scored on one validation split,
    that split's size and its standard error (a spread over one value would read 0)."""
    attrs = trial.user_attrs
    if attrs.get("folds", 1) > 1:
        return f"{metric} {attrs['metric']:.4f} ± {attrs['metric_sd']:.4f} ({attrs['folds']} folds)"
    return (f"{metric} {attrs['metric']:.4f} ± {standard_error(trial):.4f} "
            f"(one split of {attrs.get('val_images', 0)} images)")


def leaderboard(study: optuna.Study, estimates: dict[str, dict] | None = None) -> list[dict]:
    """Every trial as a row, best first (finished ones by value, then the others); finalists by their
    cross-validation estimate."""
    rows = [_row(t) for t in with_estimates(study.get_trials(deepcopy=False), estimates or {})]
    return sorted(rows, key=lambda r: (r["state"] != "complete", not r["feasible"], -r["value"], r["number"]))


def _row(t: optuna.trial.FrozenTrial) -> dict:
    attrs = t.user_attrs
    if t.state == TrialState.COMPLETE:
        value = attrs.get("metric", t.value)
    else:
        value = t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else math.nan
    params = {k: (f"{v:.2e}" if isinstance(v, float) else str(v)) for k, v in t.params.items()
              if k not in ("architecture", "classical")}
    return {"number": t.number, "state": _STATE_NAMES.get(t.state, "failed"),
            "architecture": str(t.params.get("architecture", attrs.get("architecture", ""))), "params": params,
            "value_sd": attrs.get("metric_sd", standard_error(t) if t.state == TrialState.COMPLETE else 0.0),
            "folds": attrs.get("folds", 1),
            "value": value if math.isfinite(value) else -1.0, "seconds": attrs.get("seconds", 0.0),
            "job_id": attrs.get("job_id", ""), "note": attrs.get("note", ""), "feasible": attrs.get("feasible", True),
            "model_mb": attrs.get("model_mb", 0.0), "latency_ms": attrs.get("latency_ms", 0.0)}
