"""One training job from dataset to exported model, run inside the job's own process."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from bioclass.errors import InvalidArgument
from bioclass.server.cards import ModelCard
from bioclass.server.settings import usable_cores
from bioclass.server.training import augment, data, datasets, distill, networks, plots, steps
from bioclass.server.training.config import IMAGENET_MEAN, IMAGENET_STD
from bioclass.server.training.steps import Plan

__all__ = ["Plan", "network_card", "run", "seed", "write_plots"]


def run(plan: Plan, reporter) -> dict:
    config = plan.config
    threads = config.threads or usable_cores()
    torch.set_num_threads(threads)
    seed(config.seed)
    samples, unlabelled = datasets.resolve_samples(plan.dataset_root, plan.spec)
    splits = datasets.assign_splits(plan.dataset_root, samples, plan.spec, config)
    if config.train_on_all:
        splits = ["train" if split == "val" else split for split in splits]
        reporter.log(f"training on all {splits.count('train')} labelled images (no validation split)")
    labels = sorted({s.label for s in samples})
    card = network_card(plan, labels)
    skipped: list[tuple[str, str]] = []
    sets = _load_splits(plan, samples, splits, labels, skipped, reporter, card)
    if len(set(sets["train"].targets)) < 2:
        raise InvalidArgument("fewer than two classes left in the training split after skipping unreadable images")
    card = data.normalised_card(card, sets["train"])
    base = {"counts": datasets.split_counts(samples, splits), "skipped": skipped}
    if config.semi_supervised:  # teachers, pseudo-labels, then a student
        return distill.run(plan, sets, card, labels, unlabelled, reporter, base)
    network, source = networks.build(config.arch, len(labels), config.pretrained, reporter.log)
    loop = steps.make_loop(plan, network, sets, card, len(labels), reporter)
    reporter.log(f"training on {loop.device} with {threads} CPU threads")
    steps.train(loop, config, bool(source), reporter)
    return {**base, "history": loop.history, "weights_source": source,
            **steps.finish(plan, loop, sets, card, labels, unlabelled, reporter)}


def seed(value: int) -> None:
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def network_card(plan: Plan, labels: list[str]) -> ModelCard:
    """The card a trained network is served with (its preprocessing is the training's)."""
    config = plan.config
    height, width = config.image_size
    return ModelCard.model_validate({
        "id": plan.model_id, "framework": "pytorch", "weights": "model.pt", "format": "torchscript",
        "input": {"size": [height, width], "pages": config.pages},
        "preprocessing": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "scale": config.scale},
        "output": {"labels": labels}, "tiling": {"size": [config.tile, config.tile]} if config.tile else None})


def _load_splits(plan: Plan, samples, splits, labels, skipped, reporter, card: ModelCard) -> dict[str, data.ImageSet]:
    index = {label: i for i, label in enumerate(labels)}
    sets = {}
    for split in datasets.SPLITS:
        items = [(s.path, index[s.label]) for s, where in zip(samples, splits) if where == split]
        sets[split] = data.load(plan.dataset_root, items, skipped, card)
        reporter.log(f"{split}: {len(sets[split])} images")
    for name, reason in skipped:
        reporter.log(f"skipped unreadable image {name}: {reason}")
    if plan.config.augmented_copies and plan.config.augmentation:
        _add_augmented_folder(plan, sets["train"], labels, reporter, card)
    return sets


def _add_augmented_folder(plan: Plan, train: data.ImageSet, labels: list[str], reporter, card: ModelCard) -> None:
    """CLoDSA's folder mode: write augmented copies to disk, then train on originals and copies."""
    target = plan.job_dir / "augmented"
    sources = [(plan.dataset_root / name, labels[t]) for name, t in zip(train.names, train.targets)]
    written = augment.write_folder(plan.config.augmentation, sources, target, plan.config.augmented_copies,
                                   plan.config.seed, lambda path: data.read_image(path, card))
    reporter.log(f"wrote {written} augmented images to {target}")
    index = {label: i for i, label in enumerate(labels)}
    for label in labels:
        for path in sorted(p for p in (target / label).iterdir() if p.suffix in (".png", ".tif")):
            train.names.append(str(path))
            train.pixels.append(data.read_image(path, card))  # the card's pages, as the originals
            train.targets.append(index[label])


def write_plots(job_dir: Path, result: dict) -> None:
    evaluation = result["evaluation"]
    (job_dir / "confusion.png").write_bytes(plots.confusion_png(
        np.asarray(evaluation["confusion"]), result["labels"], f"{evaluation['split']} split"))
    (job_dir / "curves.png").write_bytes(plots.curves_png(result["history"]))
