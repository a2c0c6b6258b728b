"""How a run's time budget is spent: when a trial may start, and how long it may train.

A trial costs its training time plus an overhead (process start, loading, evaluation, export),
measured on the run's own trials. After the search comes the end phase (a share of the budget, when
networks are searched): the finalists' cross-validation on a small dataset, then retraining the chosen
configuration on all labelled images. The end of the budget is kept for quantizing and serving.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

FIRST_OVERHEAD_S = 20.0  # a guess until the first trial has been measured
MIN_TRAINING_S = 4.0
CLASSICAL_SHARE = 0.3  # of the search time, at most, for the classical candidates when networks follow
# Of the time before the reserve, for the end phase: cross-validating finalists and retraining (a small
# dataset), or retraining only; a run shorter than MIN_END_BUDGET_S serves its trial's own export.
END_SHARE_CV = 0.4
END_SHARE_RETRAIN = 0.15
MIN_END_BUDGET_S = 120.0
FIRST_FOLD_SLACK_S = 1.5  # per fold, beyond its training (a fresh network, scaling, evaluation): a guess


@dataclass
class Budget:
    deadline: float  # time.monotonic() at which the whole run must have ended
    total_s: float
    overhead_s: float = FIRST_OVERHEAD_S
    end_share: float = 0.0  # set by plan_end once the dataset's profile is known
    network_finished: bool = False  # the end phase is kept only once it has a network trial to work on
    fold_slack_s: float = FIRST_FOLD_SLACK_S
    # What the end phase is expected to use, from the best network trial so far (plan_need): the rest of its
    # share goes back to the search, so a run does not end early with time it reserved and could not use.
    end_need_s: float | None = None
    # A semi-supervised trial's time beyond its training and the overhead (pseudo-labelling the unlabelled pool
    # with its teachers), learned from those trials alone: counted in overhead_s, it shortened the search and
    # the supervised finalists' folds (malaria, 5 min: the overhead 4 s -> 30 s, the run ended 100 s early).
    semi_extra_s: float = 0.0

    def plan_end(self, cross_validate: bool, networks: bool) -> None:
        """Keep time after the search for the finalists' cross-validation and retraining, when there are networks."""
        if networks and self.total_s >= MIN_END_BUDGET_S:
            self.end_share = END_SHARE_CV if cross_validate else END_SHARE_RETRAIN

    @property
    def reserve_s(self) -> float:
        """Kept for the finalisation: quantization candidates, measurement, registering two models."""
        return min(30.0, max(10.0, 0.2 * self.total_s))

    @property
    def end_cap_s(self) -> float:
        return self.end_share * (self.total_s - self.reserve_s)

    @property
    def end_s(self) -> float:
        return self.end_cap_s if self.end_need_s is None else min(self.end_cap_s, self.end_need_s)

    def plan_need(self, retraining_s: float | None, folds: list[int]) -> int:
        """Keep for the end phase what it will use: the retraining (retraining_s of training, on all labelled
        images), and one finalist's cross-validation in the most folds (of `folds`) that fit the end phase's
        share with it; a fold trains on (k-1)/k of the images. One more overhead covers the search's last
        trial running past its estimate. None: no network to retrain, nothing kept. The folds chosen; 0 when
        none fit."""
        if retraining_s is None:
            self.end_need_s = 0.0
            return 0
        retrain = 2 * self.overhead_s + max(MIN_TRAINING_S, retraining_s)
        for count in sorted(folds, reverse=True):
            fold_training_s = max(MIN_TRAINING_S, retraining_s * (count - 1) / count)
            cross_validation = self.overhead_s + count * (fold_training_s + self.fold_slack_s)
            if retrain + cross_validation <= self.end_cap_s:
                self.end_need_s = retrain + cross_validation
                return count
        self.end_need_s = retrain
        return 0

    @property
    def search_end(self) -> float:
        """The end phase's time is the search's until a network trial has finished: the classical candidates
        may have used the search's share, and an end phase without a network trial has nothing to do."""
        return self.deadline - self.reserve_s - (self.end_s if self.network_finished else 0.0)

    def left(self) -> float:
        return self.search_end - time.monotonic()

    def end_left(self) -> float:
        """What is left of the end phase (the search's unused time included)."""
        return self.deadline - self.reserve_s - time.monotonic()

    def can_start_trial(self) -> bool:
        return self.left() >= self.overhead_s + MIN_TRAINING_S

    def trial_seconds(self, semi_supervised: bool = False) -> float:
        """Training time for the next trial: at most a third of the search, and what is left (less a
        semi-supervised trial's pseudo-labelling)."""
        cap = max(MIN_TRAINING_S, (self.total_s - self.reserve_s - self.end_s) / 3)
        extra = self.semi_extra_s if semi_supervised else 0.0
        return max(MIN_TRAINING_S, min(cap, self.left() - self.overhead_s - extra))

    def fold_seconds(self, trained_s: float, limit_s: float, folds: int, kept_s: float) -> float:
        """A finalist's time limit per fold: its trial's (limit_s; the same limit keeps the same learning-rate
        schedule), within what the end phase has left once kept_s (the retraining) is set aside. 0 when a
        fold could not train nine tenths as long as its trial did to its kept epoch (trained_s), or
        MIN_TRAINING_S: a fold cut short would rank the configuration below what it is."""
        available = (self.end_left() - kept_s - self.overhead_s) / max(1, folds) - self.fold_slack_s
        if available < max(MIN_TRAINING_S, 0.9 * trained_s):
            return 0.0
        return min(limit_s, available) if limit_s else available

    def measured_folds(self, wall_s: float, training_s: float, folds: int) -> None:
        """Learn the per-fold slack from a finished cross-validation (the larger of the last and the average)."""
        observed = max(0.0, wall_s - self.overhead_s - training_s) / max(1, folds)
        self.fold_slack_s = max(observed, (self.fold_slack_s + observed) / 2)

    def retrain_seconds(self, trained_s: float, limit_s: float) -> float:
        """The retraining's time limit: its trial's (limit_s, on more images; the same limit keeps the same
        learning-rate schedule) within what is left; 0 when it could not train nine tenths as long as its
        trial did (trained_s, on more images) or MIN_TRAINING_S: a retraining cut short serves a network
        worse than the validated trial (wbc: 95 of about 235 s, 0.88 on its own training images where the
        trial scored 1.0 on unseen ones), so the trial's own export is served instead."""
        available = self.end_left() - self.overhead_s
        if available < max(MIN_TRAINING_S, 0.9 * trained_s):
            return 0.0
        return min(limit_s, available) if limit_s else available

    def classical_seconds(self, alone: bool) -> float:
        """The classical job's time limit: all that is left when it runs alone, else a share of the search."""
        share = 1.0 if alone else CLASSICAL_SHARE
        return max(MIN_TRAINING_S, min(share * (self.total_s - self.reserve_s), self.left() - self.overhead_s))

    def measured(self, wall_s: float, training_s: float, semi_supervised: bool = False) -> None:
        """Learn the overhead from a finished trial (the larger of the last one and the average); a
        semi-supervised trial's time past that overhead is learned apart (semi_extra_s)."""
        observed = max(0.0, wall_s - training_s)
        if semi_supervised:
            extra = max(0.0, observed - self.overhead_s)
            self.semi_extra_s = max(extra, (self.semi_extra_s + extra) / 2)
            return
        self.overhead_s = max(observed, (self.overhead_s + observed) / 2)
