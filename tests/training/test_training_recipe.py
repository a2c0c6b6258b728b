"""The recipe: reproducible with a seed; one-cycle rates; a time budget ends the cycle."""
from __future__ import annotations

import time

import pytest
import torch

from bioclass.server.cards import ModelCard
from bioclass.server.training import data, networks, recipe
from training_support import MALARIA


class QuietReporter:
    def progress(self, **values): pass
    def epoch(self, record, epochs): pass
    def log(self, line): pass
    def check(self): pass


def _train_once(seed: int) -> tuple[list[dict], torch.Tensor]:
    torch.manual_seed(seed)
    card = ModelCard.model_validate({"id": "r", "framework": "pytorch", "weights": "m.pt", "input": {"size": [32, 32]},
                                     "output": {"labels": ["Parasitized", "Uninfected"]}})
    items = [(f"{label}/{p.name}", i) for i, label in enumerate(("Parasitized", "Uninfected"))
             for p in sorted((MALARIA / label).iterdir())[:8]]
    images = data.load(MALARIA, items, [])
    network, _ = networks.build("mobilenetv3_small_050", 2, "none")
    loop = recipe.Loop(network=network, train=data.loader(data.TrainingImages(images, card), 8, seed, "sampler", 2),
                       val_x=data.prepared_tensor(images, card), val_y=torch.tensor(images.targets),
                       loss_fn=torch.nn.CrossEntropyLoss(), reporter=QuietReporter())
    body, head = networks.parameter_groups(network)
    recipe.fit(loop, "train", 2, [1e-4, 1e-3], [body, head], patience=-1, weight_decay=0.01)
    return loop.history, next(network.parameters()).detach().clone()


def test_same_seed_same_training():
    torch.set_num_threads(1)
    first_history, first_weights = _train_once(3)
    second_history, second_weights = _train_once(3)
    assert [h["val_loss"] for h in first_history] == [h["val_loss"] for h in second_history]
    assert torch.equal(first_weights, second_weights)


def test_one_cycle_warms_up_to_the_peak_and_anneals():
    assert recipe.one_cycle_rate(0.0, 1e-3, 0.25) == pytest.approx(1e-3 / 25)
    assert recipe.one_cycle_rate(0.25, 1e-3, 0.25) == pytest.approx(1e-3)
    assert recipe.one_cycle_rate(1.0, 1e-3, 0.25) == pytest.approx(1e-7)


def test_a_spent_time_budget_ends_the_cycle_annealed():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([{"params": [parameter], "lr": 1e-3, "peak": 1e-3}])
    schedule = recipe.OneCycle(optimizer, total_steps=1000, deadline=time.perf_counter() + 0.01)
    time.sleep(0.02)
    schedule.step()
    assert schedule.finished and optimizer.param_groups[0]["lr"] == pytest.approx(1e-7)


def test_from_scratch_the_body_learns_at_the_full_rate_and_pretrained_at_a_fraction(monkeypatch):
    from bioclass.server.training import steps
    from bioclass.server.training.config import TrainConfig

    network, _ = networks.build("bioclass:small_cnn3", 2, "none")
    loop = recipe.Loop(network=network, train=[(torch.rand(2, 3, 32, 32), torch.tensor([0, 1]))],
                       val_x=torch.zeros(0), val_y=torch.zeros(0), loss_fn=torch.nn.CrossEntropyLoss(),
                       reporter=QuietReporter())
    rates = []
    monkeypatch.setattr(recipe, "fit", lambda loop, stage, epochs, lrs, *rest, **kw: rates.append(lrs))
    config = TrainConfig(arch="bioclass:small_cnn3", learning_rate=1e-2, head_epochs=0, body_lr_divisor=10)
    steps.train(loop, config, pretrained=False, reporter=QuietReporter())
    steps.train(loop, config, pretrained=True, reporter=QuietReporter())
    assert rates == [[1e-2, 1e-2], [1e-3, 1e-2]]
