"""Training benchmarks on malaria-cells-50 (see bench/README.md, section "Training").

1. Throughput: images per second of training epochs run through the job machinery (a real
   `bioclass serve`, Train RPC, job process, progress pipe) against a plain PyTorch loop in this
   process on the same model, data, batch size, optimiser and schedule. Both count an epoch as one
   pass over the training split plus one validation pass, and leave out the first epoch (warm-up);
   the plain loop runs before and after the job and the two rates are averaged, because the load
   of a shared machine drifts. The target ratio is 0.9 or more.
2. Accuracy of a 2-minute training with the test split by patient (file names carry it).

    .venv/bin/python bench/training.py [--arch resnet10t] [--threads 1] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT.parent / "shared" / "datasets" / "malaria-cells-50"
PATIENT = r"(P\d+|C\d+(?![\dP]))"  # the patient (C100P61 -> P61), else the slide (C12N)
sys.path.insert(0, str(ROOT / "tests"))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="resnet10t")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3,
                        help="fixed peak rate (0: the learning-rate finder, which spends part of the budget)")
    parser.add_argument("--augment", default="- {technique: flip_horizontal}\n- {technique: flip_vertical}\n",
                        help="augmentation list of the 2-minute training")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    parser.add_argument("--throughput-epochs", type=int, default=4)
    parser.add_argument("--throughput-images", type=int, default=300, help="training images per class")
    parser.add_argument("--budget-seconds", type=float, default=120.0)
    parser.add_argument("--throughput-only", action="store_true", help="skip the 2-minute training")
    parser.add_argument("--json", default="", help="also write the figures here")
    return parser.parse_args()


def subset(folder: Path, per_class: int) -> Path:
    import shutil

    for label in ("Parasitized", "Uninfected"):
        (folder / label).mkdir(parents=True)
        for path in sorted((DATASET / label).iterdir())[:per_class]:
            shutil.copy(path, folder / label / path.name)
    return folder


def job_config(args, **extra) -> dict:
    return dict(epochs=args.throughput_epochs, image_size=args.image_size, batch_size=args.batch_size,
                learning_rate=1e-3, threads=args.threads, seed=0, patience=-1, **extra)


def run_job(address: str, dataset: Path, args, **config):
    from bioclass.client import Client

    with Client(address, timeout=None) as client:
        started = time.perf_counter()
        job_id = client.training.train(dataset, args.arch, on_server=True, **config)
        job = client.training.wait(job_id)
        return job, time.perf_counter() - started


def steady_rate(epoch_seconds: list[float], train_images: int) -> float:
    """Images per second over the epochs after the first (which pays one-off warm-up costs)."""
    steady = epoch_seconds[1:] or epoch_seconds
    return len(steady) * train_images / sum(steady)


def plain_loop(dataset: Path, args) -> tuple[list[float], int]:
    """The same work without the service: prepare, one-cycle AdamW, weighted loss, validation pass."""
    import numpy as np
    import torch
    import timm

    from bioclass.server.training import data, datasets
    from bioclass.server.training.config import DatasetSpec, TrainConfig

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = TrainConfig(arch=args.arch, image_size=(args.image_size, args.image_size), batch_size=args.batch_size)
    samples = datasets.folder_samples(dataset)
    splits = datasets.assign_splits(dataset, samples, DatasetSpec(server_dir=str(dataset)), config)
    labels = sorted({s.label for s in samples})
    card = _card(labels, args.image_size)
    load = {split: data.load(dataset, [(s.path, labels.index(s.label)) for s, sp in zip(samples, splits)
                                       if sp == split], []) for split in ("train", "val")}
    train = data.TrainingImages(load["train"], card)
    loader = data.loader(train, args.batch_size, 0, "weighted_loss", len(labels))
    val_x, val_y = data.prepared_tensor(load["val"], card), torch.tensor(load["val"].targets)
    network = timm.create_model(args.arch, num_classes=len(labels))
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3, weight_decay=1e-2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3,
                                                   total_steps=args.throughput_epochs * len(loader))
    loss_fn = torch.nn.CrossEntropyLoss(weight=data.class_weights(load["train"].targets, len(labels)))
    seconds = []
    for _ in range(args.throughput_epochs):
        started = time.perf_counter()
        network.train()
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(network(x), y).backward()
            optimizer.step()
            schedule.step()
        network.eval()
        with torch.inference_mode():
            np.asarray(network(val_x).argmax(1) == val_y)
        seconds.append(time.perf_counter() - started)
    return seconds, len(train)


def _card(labels: list[str], size: int):
    from bioclass.server.cards import ModelCard
    from bioclass.server.training.config import IMAGENET_MEAN, IMAGENET_STD

    return ModelCard.model_validate({"id": "bench", "framework": "pytorch", "weights": "m.pt",
                                     "input": {"size": [size, size]},
                                     "preprocessing": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
                                     "output": {"labels": labels}})


def main() -> int:
    from server_process import ServerProcess

    args = parse_args()
    figures: dict = {"arch": args.arch, "image_size": args.image_size, "batch_size": args.batch_size,
                     "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        small = subset(Path(tmp) / "subset", args.throughput_images)
        before, train_images = plain_loop(small, args)
        server = ServerProcess("--no-builtin", work_dir=Path(tmp) / "work",
                               env={"BIOCLASS_INFERENCE_THREADS": str(args.threads)})
        try:
            job, wall = run_job(server.address, small, args, **job_config(args))
            assert job.error == "", job.error
            after, _ = plain_loop(small, args)  # plain runs on both sides of the job: the machine's load drifts
            plain_rate = (steady_rate(before, train_images) + steady_rate(after, train_images)) / 2
            service_rate = steady_rate([h.seconds for h in job.history if h.stage == "train"], train_images)
            figures["throughput"] = {"train_images": train_images, "epochs": args.throughput_epochs,
                                     "plain_img_s_before": round(steady_rate(before, train_images), 1),
                                     "plain_img_s_after": round(steady_rate(after, train_images), 1),
                                     "plain_img_s": round(plain_rate, 1), "job_img_s": round(service_rate, 1),
                                     "ratio": round(service_rate / plain_rate, 3),
                                     "job_wall_s": round(wall, 1)}
            print(json.dumps(figures["throughput"]), flush=True)
            if not args.throughput_only:
                figures["two_minutes"] = two_minute_training(server.address, args)
                print(json.dumps(figures["two_minutes"]), flush=True)
        finally:
            server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


def two_minute_training(address: str, args) -> dict:
    """All 2000 images, split by patient; the one-cycle schedule spans the time budget."""
    epochs = 100  # an upper bound: the budget ends the cycle first
    config = dict(epochs=epochs, image_size=args.image_size, batch_size=args.batch_size, threads=args.threads,
                  learning_rate=args.learning_rate, augmentation=args.augment,
                  seed=0, max_seconds=args.budget_seconds, val_fraction=0.1, test_fraction=0.2, quantize=True,
                  patience=-1)  # the budget is the stopping rule
    job, wall = run_job(address, DATASET, args, group_pattern=PATIENT, **config)
    m = job.test_metrics
    trained = sum(h.seconds for h in job.history)
    return {"state": job.state, "error": job.error, "weights": job.weights_source or "from scratch",
            "epochs_run": len(job.history), "training_s": round(trained, 1), "job_wall_s": round(wall, 1),
            "counts": dict(job.dataset.counts), "test_images": m.images, "accuracy": round(m.accuracy, 4),
            "balanced_accuracy": round(m.balanced_accuracy, 4), "f1_macro": round(m.f1_macro, 4),
            "auroc": round(m.auroc, 4), "mcc": round(m.mcc, 4),
            "exports": [{"format": e.format, "accuracy": round(e.accuracy, 4), "mb": round(e.size_bytes / 1e6, 2),
                         "ms_per_image": round(e.ms_per_image, 2)} for e in job.exports]}


if __name__ == "__main__":
    sys.exit(main())
