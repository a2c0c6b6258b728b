"""A network configuration scored by k-fold cross-validation (a job's process): AutoML's finalists.

On a few dozen images one validation split cannot rank trials, so the best few configurations are trained
and validated once per fold of server/automl/folds.py, the folds the classical candidates are validated
on. Each fold trains on its training part only, as the served model is retrained on all images (the
configuration's epochs, max_seconds per fold), and is scored once on its held-out part, which chose
nothing; nothing is exported.
"""
from __future__ import annotations

import re
import time

import numpy as np
import torch

from bioclass.errors import InvalidArgument
from bioclass.server.automl import folds
from bioclass.server.settings import usable_cores
from bioclass.server.training import data, datasets, job, networks, steps
from bioclass.server.training.steps import Plan

METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "mcc", "cohen_kappa", "auroc")


def run(plan: Plan, reporter) -> dict:
    config, started = plan.config, time.perf_counter()
    torch.set_num_threads(config.threads or usable_cores())
    samples, _ = datasets.resolve_samples(plan.dataset_root, plan.spec)
    splits = datasets.assign_splits(plan.dataset_root, samples, plan.spec, config)
    labels = sorted({s.label for s in samples})
    card = job.network_card(plan, labels)
    index = {label: i for i, label in enumerate(labels)}
    skipped: list[tuple[str, str]] = []
    images = data.load(plan.dataset_root, [(s.path, index[s.label]) for s in samples], skipped, card)
    kept = {name: i for i, name in enumerate(images.names)}
    samples, splits = zip(*[(s, where) for s, where in zip(samples, splits) if s.path in kept])
    groups = datasets.sample_groups(list(samples), re.compile(plan.spec.group_pattern)) \
        if plan.spec.group_pattern else None
    fold_list = folds.ranking_folds(np.asarray(images.targets), groups, list(splits), config.seed,
                                     config.folds or folds.MAX_FOLDS)
    if len(fold_list) < 2:
        raise InvalidArgument(f"{len(images)} images do not make cross-validation folds")
    scores: dict[str, list[float]] = {metric: [] for metric in METRICS}
    trained_s = 0.0
    for number, (train, val) in enumerate(fold_list, start=1):
        measured, seconds = _fold(plan, images, train, val, card, labels, reporter)
        trained_s += seconds
        for metric in METRICS:
            scores[metric].append(float(measured[metric]))
        reporter.log(f"fold {number}/{len(fold_list)}: accuracy {measured['accuracy']:.4f}, "
                     f"balanced accuracy {measured['balanced_accuracy']:.4f} on {len(val)} images")
    return {"labels": labels, "history": [], "scores": scores, "folds": len(fold_list), "images": len(images),
            "skipped": skipped, "seconds": time.perf_counter() - started, "training_seconds": trained_s}


def _fold(plan: Plan, images: data.ImageSet, train: np.ndarray, val: np.ndarray, card, labels,
          reporter) -> tuple[dict, float]:
    """Train on one fold's training part from the same seed as the trial: its measures on the held-out part,
    and the seconds its epochs took."""
    config = plan.config
    training = {"train": _subset(images, train), "val": data.ImageSet(), "test": data.ImageSet()}
    card = data.normalised_card(card, training["train"])  # from the fold's training images, as a job would
    job.seed(config.seed)
    network, source = networks.build(config.arch, len(labels), config.pretrained)
    loop = steps.make_loop(plan, network, training, card, len(labels), reporter)  # no validation: as retrained
    steps.train(loop, config, bool(source), reporter)
    held_out = {**training, "val": _subset(images, val)}
    return steps.evaluate(loop.network.cpu(), held_out, card, labels), sum(h["seconds"] for h in loop.history)


def _subset(images: data.ImageSet, rows: np.ndarray) -> data.ImageSet:
    return data.ImageSet([images.names[i] for i in rows], [images.pixels[i] for i in rows],
                         [images.targets[i] for i in rows])
