"""How a run's time budget is spent: when a trial may start, and how long it may train.

A trial costs its training time plus an overhead (process start, loading, evaluation, export),
measured on the run's own trials; the end of the budget is kept for quantizing and serving.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

FIRST_OVERHEAD_S = 20.0  # a guess until the first trial has been measured
MIN_TRAINING_S = 4.0
CLASSICAL_SHARE = 0.3  # of the search time, at most, for the classical candidates when networks follow


@dataclass
class Budget:
    deadline: float  # time.monotonic() at which the whole run must have ended
    total_s: float
    overhead_s: float = FIRST_OVERHEAD_S

    @property
    def reserve_s(self) -> float:
        """Kept for the finalisation: quantization candidates, measurement, registering two models."""
        return min(30.0, max(10.0, 0.2 * self.total_s))

    @property
    def search_end(self) -> float:
        return self.deadline - self.reserve_s

    def left(self) -> float:
        return self.search_end - time.monotonic()

    def can_start_trial(self) -> bool:
        return self.left() >= self.overhead_s + MIN_TRAINING_S

    def trial_seconds(self) -> float:
        """Training time for the next trial: at most a third of the search, and what is left."""
        cap = max(MIN_TRAINING_S, (self.total_s - self.reserve_s) / 3)
        return max(MIN_TRAINING_S, min(cap, self.left() - self.overhead_s))

    def classical_seconds(self, alone: bool) -> float:
        """The classical job's time limit: all that is left when it runs alone, else a share of the search."""
        share = 1.0 if alone else CLASSICAL_SHARE
        return max(MIN_TRAINING_S, min(share * (self.total_s - self.reserve_s), self.left() - self.overhead_s))

    def measured(self, wall_s: float, training_s: float) -> None:
        """Learn the overhead from a finished trial (the larger of the last one and the average)."""
        observed = max(0.0, wall_s - training_s)
        self.overhead_s = max(observed, (self.overhead_s + observed) / 2)
