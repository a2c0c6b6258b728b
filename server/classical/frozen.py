"""Frozen deep features + a linear head, an AutoML candidate (a job's process).

A pretrained backbone's pooled features of every image, a logistic regression cross-validated on the
ranking folds the classical candidates use, then refitted on all labelled images. The head's scaler and
weights become one linear layer after the backbone, exported as one ONNX graph (logits, as a trained
network's export), so Predict, Evaluate, OIP and the plugins serve it like any network. Without
pretrained weights there is no candidate: random features are not worth the time.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
import torch

from bioclass.errors import InvalidArgument
from bioclass.server.automl import folds
from bioclass.server.classical import heads, train
from bioclass.server.classical.spec import FROZEN_PREFIX
from bioclass.server.settings import usable_cores
from bioclass.server.training import data, datasets, export, job, networks
from bioclass.server.training.config import Plan as JobPlan

HEAD = "logistic_regression"
BATCH = 16


@dataclass
class Plan(JobPlan):
    no_weights: str = ""  # why the backbone has no pretrained weights (worker.with_weights_fetched)


def plan_from(values: dict) -> Plan:
    return Plan.from_values(values, no_weights=values.get("no_weights", ""))


def run(plan: Plan, reporter) -> dict:
    config, started = plan.config, time.perf_counter()
    backbone_arch = config.arch.removeprefix(FROZEN_PREFIX)
    if config.pretrained == "none":
        return {"history": [], "skipped": plan.no_weights or f"no pretrained weights for {backbone_arch}"}
    threads = config.threads or usable_cores()
    torch.set_num_threads(threads)
    samples, _ = datasets.resolve_samples(plan.dataset_root, plan.spec)
    splits = datasets.assign_splits(plan.dataset_root, samples, plan.spec, config)
    labels = sorted({s.label for s in samples})
    card = job.network_card(plan, labels)
    index = {label: i for i, label in enumerate(labels)}
    images = data.load(plan.dataset_root, [(s.path, index[s.label]) for s in samples], [], card)
    if len(set(images.targets)) < 2:
        raise InvalidArgument("fewer than two classes left after skipping unreadable images")
    card = data.normalised_card(card, images)
    kept = set(images.names)
    samples, splits = zip(*[(s, where) for s, where in zip(samples, splits) if s.path in kept])
    backbone = _backbone(backbone_arch, len(labels), config.pretrained, reporter)
    x, y = _features(backbone, images, card, config.max_seconds, reporter), np.asarray(images.targets)
    groups = datasets.sample_groups(list(samples), re.compile(plan.spec.group_pattern)) \
        if plan.spec.group_pattern else None
    fold_list = folds.ranking_folds(y, groups, list(splits), config.seed, largest=folds.FEATURES_CV_MAX_IMAGES)
    balanced = config.imbalance != "none"
    scores = train.fold_scores(y, fold_list, train.fold_probabilities(HEAD, x, y, fold_list, len(labels),
                                                                    config.seed, threads, balanced).probabilities,
                                 labels)
    reporter.log(f"{backbone_arch} features ({x.shape[1]}) + {HEAD}: accuracy {np.mean(scores['accuracy']):.4f} "
                 f"over {len(fold_list)} folds")
    head = heads.fit(HEAD, x, y, config.seed, threads, balanced=balanced)  # learns from every image
    candidate = _exported(plan, with_linear_head(backbone, head, len(labels)), images, card, threads)
    return {"labels": labels, "history": [], "validation": train.validation(fold_list, y, list(images.names)),
            "candidates": [{"head": HEAD, "scores": scores, "seconds": time.perf_counter() - started, **candidate}],
            "seconds": time.perf_counter() - started}


def _backbone(arch: str, classes: int, weights: str, reporter) -> torch.nn.Module:
    network, _ = networks.build(arch, classes, weights, reporter.log)
    network.reset_classifier(0)  # timm: the pooled features
    return network.eval()


@torch.inference_mode()
def _features(backbone: torch.nn.Module, images: data.ImageSet, card, max_seconds: float, reporter) -> np.ndarray:
    rows, started = [], time.perf_counter()
    for start in range(0, len(images), BATCH):
        reporter.check()
        part = data.ImageSet(images.names[start:start + BATCH], images.pixels[start:start + BATCH],
                             images.targets[start:start + BATCH])
        rows.append(backbone(data.prepared_tensor(part, card)).numpy())
        done = start + len(part)
        reporter.progress(stage="features", step=done, steps=len(images),
                          rate=done / max(1e-9, time.perf_counter() - started))
        projected = (time.perf_counter() - started) * len(images) / done
        if max_seconds and projected > max_seconds:
            raise InvalidArgument(f"features of {len(images)} images would take {projected:.0f} s, over the "
                                  f"candidate's {max_seconds:.0f} s")
    return np.concatenate(rows).astype(np.float32)


def with_linear_head(backbone: torch.nn.Module, head, classes: int) -> torch.nn.Module:
    """The backbone followed by the fitted scaler and logistic regression as one linear layer: its logits'
    softmax is the pipeline's predict_proba (binary: logits [0, z], whose softmax is sigmoid(z))."""
    scaler, model = head[0], head[-1]
    weight = model.coef_ / scaler.scale_
    bias = model.intercept_ - weight @ scaler.mean_
    if classes == 2 and len(weight) == 1:
        weight, bias = np.vstack([np.zeros_like(weight), weight]), np.concatenate([[0.0], bias])
    linear = torch.nn.Linear(weight.shape[1], classes)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(weight))
        linear.bias.copy_(torch.from_numpy(bias))
    return torch.nn.Sequential(backbone, linear).eval()


def _exported(plan: Plan, network: torch.nn.Module, images: data.ImageSet, card, threads: int) -> dict:
    folder = plan.job_dir / "export"
    folder.mkdir(parents=True, exist_ok=True)
    sample = data.ImageSet(images.names[:export.TIMED_IMAGES], images.pixels[:export.TIMED_IMAGES],
                           images.targets[:export.TIMED_IMAGES])
    x = data.prepared_tensor(sample, card)
    export.onnx(network, x[:1], folder / "model.onnx")
    measured = export.measure(export.onnx_forward(folder / "model.onnx", threads), x.numpy(),
                              np.asarray(sample.targets), folder / "model.onnx", "onnx")
    export.write_card(folder, _card_data(plan, card, len(images)))
    return {"export_dir": str(folder), "size_bytes": measured["size_bytes"], "ms_per_image": measured["ms_per_image"]}


def _card_data(plan: Plan, card, training_images: int) -> dict:
    backbone = plan.config.arch.removeprefix(FROZEN_PREFIX)
    library, name = networks.split_name(backbone)
    values = card.model_dump(mode="json", exclude={"provenance", "serving", "tiling"}, exclude_none=True)
    values.update(framework="onnx", format="onnx", weights="model.onnx", architecture=f"{library}:{name}",
                  name=f"{name} features + {HEAD}", tags=["frozen-features", f"job-{plan.job_id}"],
                  description=f"Frozen pretrained {library}:{name} features with a {HEAD} head; labels "
                              f"{', '.join(card.labels)}.",
                  provenance={"training_data": str(plan.spec.dataset_id or plan.spec.server_dir),
                              "training_images": training_images})
    values["input"]["tensor_name"] = "input"
    return values
