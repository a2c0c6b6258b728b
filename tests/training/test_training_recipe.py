"""The recipe: reproducible with a seed; one-cycle rates; a time budget ends the cycle."""
from __future__ import annotations

import time

import pytest
import torch

from bioclass.server.cards import ModelCard
from bioclass.server.training import data, networks, recipe
from paths import DATASETS
from training_support import CLASSES, MALARIA

JURKAT = DATASETS / "jurkat-cell-cycle"


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


class RisingValidation(torch.nn.Module):
    """A bias-only network whose training pulls it away from the validation labels: its validation loss
    rises every epoch, from the first."""

    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(2))

    def forward(self, x):
        return self.bias.expand(len(x), 2)


def _rising_loop(val_weights=None) -> recipe.Loop:
    x = torch.zeros(16, 1)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(16, dtype=torch.long)),
                                        batch_size=4)
    return recipe.Loop(network=RisingValidation(), train=train, val_x=torch.zeros(8, 1),
                       val_y=torch.ones(8, dtype=torch.long), loss_fn=torch.nn.CrossEntropyLoss(),
                       reporter=QuietReporter(), val_weights=val_weights)


def test_patience_counts_only_once_the_rate_is_down_to_half_its_peak():
    """12 epochs: the first quarter warms up, and the rate is back down to half its peak at 62.5 % of the
    cycle (7.5 epochs). Epochs 2-7 end before that and do not count, so patience 2 stops the run after
    epoch 9 (counting from the warm-up's end it would stop after 4); the first epoch's weights are kept."""
    loop = _rising_loop()
    recipe.fit(loop, "train", 12, [0.1], [list(loop.network.parameters())], patience=2, weight_decay=0.0)
    losses = [h["val_loss"] for h in loop.history]
    assert losses == sorted(losses) and len(losses) == 9
    assert recipe.one_cycle_rate(7.5 / 12, 1.0, 0.25) == pytest.approx(0.5, abs=1e-3)
    assert recipe.validate(loop)[0] == pytest.approx(losses[0])  # the best weights are kept


def test_the_validation_loss_is_weighted_like_the_training():
    """Imbalanced classes: validation measures the class-weighted loss the network is trained on."""
    logits_for = torch.tensor([[2.0, 0.0]] * 6 + [[0.0, 2.0]] * 2)
    loop = _rising_loop(val_weights=torch.tensor([0.25, 4.0]))
    loop.val_y = torch.tensor([0] * 6 + [1, 0])
    loop.network.forward = lambda x: logits_for[:len(x)]
    expected = torch.nn.functional.cross_entropy(logits_for, loop.val_y, weight=torch.tensor([0.25, 4.0]))
    assert recipe.validate(loop)[0] == pytest.approx(float(expected))
    assert float(expected) != pytest.approx(float(torch.nn.functional.cross_entropy(logits_for, loop.val_y)))


def _card(**preprocessing) -> ModelCard:
    return ModelCard.model_validate({"id": "n", "framework": "pytorch", "weights": "m.pt",
                                     "input": {"size": [32, 32], "pages": [0, 1]},
                                     "preprocessing": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                                                       **preprocessing},
                                     "output": {"labels": ["G1", "S"]}})


def test_16_bit_images_are_normalised_by_their_own_statistics():
    """Jurkat's label-free pages scaled by the 16-bit range fill a sliver of [0, 1]: ImageNet's statistics
    would leave a near-constant input, so the card gets the training images' own, and the prepared input
    has zero mean and unit spread per page (the zero third channel stays zero)."""
    items = [(f"{label}/{p.name}", i) for i, label in enumerate(("G1", "S"))
             for p in sorted((JURKAT / label).iterdir())[:20]]
    card = _card(scale="range")
    images = data.load(JURKAT, items, [], card)
    imagenet = data.prepared_tensor(images, card)
    assert float(imagenet[:, :2].std()) < 0.1  # what the network saw before
    normalised = data.normalised_card(card, images)
    x = data.prepared_tensor(images, normalised)
    for page in (0, 1):
        assert abs(float(x[:, page].mean())) < 0.1 and 0.8 < float(x[:, page].std()) < 1.2
    assert float(x[:, 2].abs().max()) == 0.0
    assert normalised.preprocessing.mean[0] < 0.02  # brightfield: about 680 of 65535


def test_8_bit_images_keep_imagenet_statistics():
    items = [(f"{label}/{p.name}", i) for i, label in enumerate(CLASSES) for p in sorted((MALARIA / label).iterdir())[:4]]
    card = ModelCard.model_validate({"id": "r", "framework": "pytorch", "weights": "m.pt", "input": {"size": [32, 32]},
                                     "preprocessing": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                                     "output": {"labels": list(CLASSES)}})
    assert data.normalised_card(card, data.load(MALARIA, items, [])) == card


def test_a_float_image_with_nan_is_skipped_with_the_reason(tmp_path):
    """A clumsy export (NaN in a float TIFF) is left out of training, as Predict refuses it, instead of
    poisoning the channel statistics and every batch it lands in."""
    import numpy as np
    import tifffile

    good, bad = np.full((16, 16), 0.5, np.float32), np.full((16, 16), 0.5, np.float32)
    bad[3, 4] = np.nan
    tifffile.imwrite(tmp_path / "good.tif", good)
    tifffile.imwrite(tmp_path / "bad.tif", bad)
    skipped: list = []
    images = data.load(tmp_path, [("good.tif", 0), ("bad.tif", 1)], skipped)
    assert images.names == ["good.tif"]
    assert skipped == [("bad.tif", "the image contains NaN or infinite values")]
