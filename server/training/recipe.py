"""The ATLASS training recipe: head with the body frozen, learning-rate finder, one-cycle with
discriminative learning rates, early stopping on the validation loss (best weights kept)."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch

from bioclass.server.training import networks


@dataclass
class Loop:
    """What every stage shares: the network, data, loss, and the job's reporter."""

    network: torch.nn.Module
    train: torch.utils.data.DataLoader
    val_x: torch.Tensor
    val_y: torch.Tensor
    loss_fn: torch.nn.Module
    reporter: object
    # Per-class weights of the validation loss (inverse training frequency when imbalance is handled, by
    # weighted loss or sampler), so that early stopping watches the objective the network is trained for.
    val_weights: torch.Tensor | None = None
    deadline: float = math.inf
    device: str = "cpu"
    history: list[dict] = field(default_factory=list)
    planned_steps: int = 0
    done_steps: int = 0
    started: float = field(default_factory=time.perf_counter)
    images_seen: int = 0

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    def eta(self) -> float:
        elapsed = time.perf_counter() - self.started
        if not self.done_steps:
            return 0.0
        remaining = elapsed / self.done_steps * max(0, self.planned_steps - self.done_steps)
        return min(remaining, max(0.0, self.deadline - time.perf_counter()))

    def rate(self) -> float:
        return self.images_seen / max(1e-9, time.perf_counter() - self.started)


def set_trainable(network: torch.nn.Module, body: bool) -> None:
    body_params, head_params = networks.parameter_groups(network)
    for p in body_params:
        p.requires_grad_(body)
    for p in head_params:
        p.requires_grad_(True)


def find_learning_rate(loop: Loop, steps: int, low: float = 1e-6, high: float = 1.0) -> float:
    """Sweep the rate geometrically for `steps` batches; the rate at the lowest smoothed loss / 10."""
    saved = copy.deepcopy(loop.network.state_dict())
    trainable = [p for p in loop.network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=low)
    factor = (high / low) ** (1 / max(1, steps - 1))
    best, smoothed, best_lr, lr = math.inf, 0.0, 1e-3, low
    loop.network.train()
    for step, (x, y) in enumerate(_cycle(loop.train, steps)):
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = _step(loop, optimizer, x, y)
        smoothed = 0.9 * smoothed + 0.1 * loss
        debiased = smoothed / (1 - 0.9 ** (step + 1))
        if debiased < best:
            best, best_lr = debiased, lr
        loop.reporter.progress(stage="lr_finder", step=step + 1, steps=steps, loss=debiased, eta=loop.eta(),
                               rate=loop.rate())
        if not math.isfinite(debiased) or debiased > 4 * best:
            break
        lr *= factor
    loop.network.load_state_dict(saved)
    return min(max(best_lr / 10, 1e-5), 1e-1)


def fit(loop: Loop, stage: str, epochs: int, lrs: list[float], param_groups: list[list], patience: int,
        weight_decay: float, deadline: float | None = None) -> None:
    """One-cycle training for up to `epochs`, stopping early or at the deadline; keeps the best weights.

    Patience counts only once the rate has annealed to half its peak: until then the validation loss of a
    network trained from scratch may stay at chance for epochs on end (cric, small_cnn3 at 96 px: ln 6 for
    12 epochs, then stopped at 37 % of its time, test balanced accuracy 0.31; the whole cycle: 0.36), so
    stopping there serves a network that never had its low rates."""
    groups = [{"params": params, "lr": lr, "peak": lr} for params, lr in zip(param_groups, lrs) if params]
    optimizer = torch.optim.AdamW(groups, weight_decay=weight_decay)
    schedule = OneCycle(optimizer, max(1, epochs * len(loop.train)), deadline or loop.deadline)
    best, best_state, waited = math.inf, None, 0
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        train_loss = _epoch(loop, optimizer, schedule, stage, epoch, epochs)
        val_loss, val_accuracy = validate(loop)
        record = {"stage": stage, "epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                  "val_accuracy": val_accuracy, "learning_rate": max(lrs),
                  "seconds": time.perf_counter() - started}
        loop.history.append(record)
        loop.reporter.epoch(record, epochs)
        monitored = val_loss if math.isfinite(val_loss) else train_loss  # no validation split: train loss
        if monitored < best - 1e-4:
            best, best_state, waited = monitored, copy.deepcopy(loop.network.state_dict()), 0
        elif schedule.annealed_halfway:
            waited += 1
        if 0 <= patience <= waited:
            loop.reporter.log(f"{stage}: early stop after epoch {epoch} (no better validation loss for {waited})")
            break
        if schedule.finished:
            if epoch < epochs:
                loop.reporter.log(f"{stage}: time budget reached after epoch {epoch}")
            break
    if best_state is not None:
        loop.network.load_state_dict(best_state)


def _epoch(loop: Loop, optimizer, schedule, stage: str, epoch: int, epochs: int) -> float:
    loop.network.train()
    total, count = 0.0, 0
    for step, (x, y) in enumerate(loop.train, start=1):
        loss = _step(loop, optimizer, x, y)
        schedule.step()
        total, count = total + loss * len(y), count + len(y)
        loop.done_steps += 1
        loop.reporter.progress(stage=stage, epoch=epoch, epochs=epochs, step=step, steps=len(loop.train),
                               loss=total / count, eta=loop.eta(), rate=loop.rate())
        if schedule.finished:
            break
    return total / max(1, count)


class OneCycle:
    """One-cycle learning rates (cosine warm-up to each group's peak, cosine annealing to ~0).

    The position in the cycle is the larger of steps done / steps planned and time spent / time
    left at the start, so a run with a time budget still ends annealed instead of cut at its peak.
    """

    def __init__(self, optimizer, total_steps: int, deadline: float, warmup: float = 0.25):
        self.optimizer, self.total_steps, self.warmup = optimizer, total_steps, warmup
        self.started = time.perf_counter()
        self.budget = deadline - self.started
        self.steps = 0
        self.fraction = 0.0
        self.finished = False
        self._apply(0.0)

    @property
    def annealed_halfway(self) -> bool:
        """The rate is at most half its peak (cosine annealing's midpoint)."""
        return self.fraction >= self.warmup + (1.0 - self.warmup) / 2

    def step(self) -> None:
        self.steps += 1
        self.fraction = max(self.steps / self.total_steps, (time.perf_counter() - self.started) / self.budget)
        self.finished = self.fraction >= 1.0
        self._apply(min(self.fraction, 1.0))

    def _apply(self, fraction: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = one_cycle_rate(fraction, group["peak"], self.warmup)


def one_cycle_rate(fraction: float, peak: float, warmup: float, start_div: float = 25.0,
                   final_div: float = 1e4) -> float:
    if fraction < warmup:
        low = peak / start_div
        return low + (peak - low) * (1 - math.cos(math.pi * fraction / warmup)) / 2
    low = peak / final_div
    return low + (peak - low) * (1 + math.cos(math.pi * (fraction - warmup) / (1 - warmup))) / 2


def _step(loop: Loop, optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    loop.reporter.check()
    x, y = x.to(loop.device, non_blocking=True), y.to(loop.device, non_blocking=True)
    optimizer.zero_grad(set_to_none=True)
    loss = loop.loss_fn(loop.network(x), y)
    loss.backward()
    optimizer.step()
    loop.images_seen += len(y)
    return float(loss.detach())


def _cycle(loader, steps: int):
    done = 0
    while done < steps:
        for batch in loader:
            yield batch
            done += 1
            if done >= steps:
                return


@torch.inference_mode()
def predict(network: torch.nn.Module, x: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Logits for every row of x, in evaluation mode."""
    network.eval()
    if not len(x):
        return torch.zeros((0, 0))
    device = next(network.parameters()).device
    return torch.cat([network(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])


def validate(loop: Loop) -> tuple[float, float]:
    if not len(loop.val_x):
        return math.nan, math.nan
    logits = predict(loop.network, loop.val_x)
    loss = float(torch.nn.functional.cross_entropy(logits, loop.val_y, weight=loop.val_weights))
    accuracy = float((logits.argmax(1) == loop.val_y).float().mean())
    return loss, accuracy
