"""The steps of a training job that supervised and semi-supervised training share (job's process).

job.py runs them once; distill.py runs make_loop and train once per teacher and student, then
finish, so a student is evaluated and exported exactly as a supervised model is.
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone

import numpy as np
import torch

from bioclass.server import measures
from bioclass.server.cards import ModelCard
from bioclass.server.devices import torch_device
from bioclass.server.settings import usable_cores
from bioclass.server.training import augment, data, export, networks, recipe
from bioclass.server.training.config import Plan, TrainConfig


def make_loop(plan: Plan, network, sets, card: ModelCard, classes: int, reporter) -> recipe.Loop:
    config = plan.config
    on_the_fly = config.augmentation and not config.augmented_copies
    pipeline = augment.build(config.augmentation, seed=config.seed) if on_the_fly else None
    train = data.TrainingImages(sets["train"], card, pipeline, config.seed)
    monitor = sets["val"] if len(sets["val"]) else sets["train"]
    balanced = data.class_weights(sets["train"].targets, classes) if config.imbalance != "none" else None
    weights = balanced if config.imbalance == "weighted_loss" else None
    deadline = time.perf_counter() + config.max_seconds if config.max_seconds else math.inf
    device, note = torch_device(config.device or "auto")
    if note:
        reporter.log(note)
    network.to(device)
    weights = weights.to(device) if weights is not None else None
    loop = recipe.Loop(network=network, device=device, train=data.loader(train, config.batch_size, config.seed, config.imbalance,
                                                          classes),
                       val_x=data.prepared_tensor(monitor, card),
                       val_y=torch.from_numpy(data.row_targets(monitor, card)),  # per tile when tiled
                       loss_fn=torch.nn.CrossEntropyLoss(weight=weights), val_weights=balanced, reporter=reporter,
                       deadline=deadline)
    return loop


def train(loop: recipe.Loop, config: TrainConfig, pretrained: bool, reporter) -> None:
    head_epochs = config.head_epochs if config.head_epochs >= 0 else (1 if pretrained else 0)
    finder = 0 if config.learning_rate else config.lr_finder_steps
    loop.planned_steps = (head_epochs + config.epochs) * len(loop.train) + finder * (1 + bool(head_epochs))
    body, head = networks.parameter_groups(loop.network)
    if head_epochs:
        recipe.set_trainable(loop.network, body=False)
        lr = _learning_rate(loop, config, "head")
        head_deadline = time.perf_counter() + 0.2 * (loop.deadline - time.perf_counter())  # a fifth of any budget
        recipe.fit(loop, "head", head_epochs, [lr], [head], config.patience, config.weight_decay, head_deadline)
        recipe.set_trainable(loop.network, body=True)
    if loop.out_of_time():
        return
    lr = _learning_rate(loop, config, "train")
    # Discriminative rates protect pretrained features; a network trained from scratch has none to
    # protect, and its body at a tenth of the rate barely learns (bench/README.md, AutoML runs).
    divisor = config.body_lr_divisor if pretrained else 1.0
    recipe.fit(loop, "train", config.epochs, [lr / divisor, lr], [body, head], config.patience,
               config.weight_decay)


def _learning_rate(loop: recipe.Loop, config: TrainConfig, stage: str) -> float:
    if config.learning_rate:
        return config.learning_rate
    lr = recipe.find_learning_rate(loop, config.lr_finder_steps)
    loop.done_steps += config.lr_finder_steps
    loop.reporter.log(f"{stage}: learning-rate finder chose {lr:.2e}")
    return lr


def evaluate(network, sets, card: ModelCard, labels: list[str]) -> dict:
    held_out = next((name for name in ("test", "val", "train") if len(sets[name])), "train")
    x, y = data.prepared_tensor(sets[held_out], card), np.asarray(sets[held_out].targets)
    probabilities = data.per_image(torch.softmax(recipe.predict(network, x), dim=1).numpy(), sets[held_out], card)
    return {**measures.to_dict(measures.compute(y, probabilities, labels, top_k=2)), "split": held_out}


def export_all(plan: Plan, network, card: ModelCard, sets, threads: int, reporter) -> list[dict]:
    folder = plan.job_dir / "export"
    folder.mkdir(parents=True, exist_ok=True)
    held_out = next((sets[n] for n in ("test", "val", "train") if len(sets[n])))
    x, y = data.prepared_tensor(held_out, card).numpy(), data.row_targets(held_out, card)  # tiles when tiled
    example = torch.from_numpy(x[:1])
    export.torchscript(network, example, folder / "model.pt")
    results = [export.measure(export.torch_forward(folder / "model.pt"), x, y, folder / "model.pt", "torchscript")]
    export.onnx(network, example, folder / "model.onnx")
    results.append(export.measure(export.onnx_forward(folder / "model.onnx", threads), x, y, folder / "model.onnx",
                                  "onnx"))
    if plan.config.quantize:
        calibration = data.prepared_tensor(sets["train"], card).numpy()[:64]
        export.quantize_int8(folder / "model.onnx", folder / "model-int8.onnx", calibration)
        results.append(export.measure(export.onnx_forward(folder / "model-int8.onnx", threads), x, y,
                                      folder / "model-int8.onnx", "onnx-int8"))
    for r in results:
        reporter.log(f"export {r['format']}: accuracy {r['accuracy']:.3f}, {r['size_bytes'] / 1e6:.2f} MB, "
                     f"{r['ms_per_image']:.2f} ms/image")
    export.write_card(folder, _card_data(plan, card, results, len(sets["train"])))
    return results


def _card_data(plan: Plan, card: ModelCard, exports: list[dict], training_images: int) -> dict:
    onnx_served = plan.config.serve_format == "onnx"
    served = next(e for e in exports if e["format"] == ("onnx" if onnx_served else "torchscript"))
    data_card = card.model_dump(mode="json", exclude={"provenance", "serving"})
    measured = "training_accuracy" if plan.config.train_on_all else "held_out_accuracy"  # nothing held out
    data_card.update({
        "name": f"{plan.config.arch} trained by bioclass job {plan.job_id}",
        "description": f"Fine-tuned {plan.config.arch}; labels {', '.join(card.labels)}.",
        "framework": "onnx" if onnx_served else "pytorch", "weights": served["file"],
        "format": "onnx" if onnx_served else "torchscript", "architecture": _architecture(plan.config.arch),
        "tags": ["trained", f"job-{plan.job_id}"],
        "provenance": {"training_data": str(plan.spec.dataset_id or plan.spec.server_dir),
                       "metrics": {measured: served["accuracy"]}, "training_images": training_images,
                       "created": datetime.now(timezone.utc).isoformat(timespec="seconds")},
    })
    if onnx_served:
        data_card["input"]["tensor_name"] = "input"
    return data_card


def _architecture(arch: str) -> str:
    library, name = networks.split_name(arch)
    return f"{library}:{name}"


def predict_unlabelled(plan: Plan, network, card: ModelCard, labels, names: list[str]) -> list[dict]:
    images = data.load(plan.dataset_root, [(name, 0) for name in names], [], card)
    if not len(images):
        return []
    probabilities = torch.softmax(recipe.predict(network, data.prepared_tensor(images, card)), dim=1).numpy()
    probabilities = data.per_image(probabilities, images, card)
    return [{"name": name, "label": labels[int(p.argmax())], "probability": float(p.max())}
            for name, p in zip(images.names, probabilities)]


def finish(plan: Plan, loop: recipe.Loop, sets, card: ModelCard, labels: list[str], unlabelled: list[str],
           reporter) -> dict:
    """Evaluate, export and label the unlabelled images with the trained network, on the CPU as served."""
    network = loop.network.cpu()
    evaluation = evaluate(network, sets, card, labels)
    reporter.progress(stage="export", eta=0.0, rate=loop.rate())
    exports = export_all(plan, network, card, sets, plan.config.threads or usable_cores(), reporter)
    return {"labels": labels, "evaluation": evaluation, "exports": exports,
            "unlabelled": predict_unlabelled(plan, network, card, labels, unlabelled),
            "images_per_second": loop.rate(), "export_dir": str(plan.job_dir / "export")}
