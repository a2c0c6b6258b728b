"""Training commands: train, jobs, job, cancel, datasets, augment-preview."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bioclass.cli.output import number, table
from bioclass.training import ARCHITECTURES, DEFAULT_ARCHITECTURE


def add_training_commands(command) -> None:
    """Add the training subcommands through main.py's `command(name, handler, help)` helper."""
    train = command("train", run_train, "Train a classifier on a class-per-folder dataset (uploaded unless "
                                        "--on-server) and serve it.")
    train.add_argument("dataset", metavar="DATASET_DIR", help="ROOT/<class>/<image>, or a .zip/.tar archive")
    train.add_argument("--arch", default=DEFAULT_ARCHITECTURE,
                       help=f"network: recommended first, {', '.join(ARCHITECTURES)}; any timm name, "
                            f"torchvision:NAME or bioclass:NAME (default {DEFAULT_ARCHITECTURE}: trained from "
                            f"scratch, suits a few dozen labels per class)")
    train.add_argument("--epochs", type=int, default=0, help="epochs with the body unfrozen (default 10)")
    train.add_argument("--name", default="", metavar="MODEL_ID", help="id of the trained model in the zoo")
    train.add_argument("--augment", default="", metavar="CONFIG", help="augmentation list (JSON or YAML file)")
    train.add_argument("--image-size", type=int, default=0, help="network input size (default 224)")
    train.add_argument("--batch-size", type=int, default=0, help="images per step (default 32)")
    train.add_argument("--lr", type=float, default=0.0, help="peak learning rate (default: learning-rate finder)")
    train.add_argument("--scale", default="", choices=["", "range", "percentile", "minmax", "zscore"],
                       metavar="MODE", help="intensity scaling: range (default), percentile, minmax or zscore "
                                            "(per image; percentile suits 16-bit fluorescence)")
    train.add_argument("--page", type=int, action="append", default=[],
                       help="page of multi-page TIFFs read as a channel (repeatable, 0-based, in order)")
    train.add_argument("--tile", type=int, default=0, metavar="PIXELS",
                       help="train on native-scale tiles of this size and serve their mean (large fields)")
    train.add_argument("--seed", type=int, default=0, help="random seed of splits and training (default 0)")
    train.add_argument("--max-seconds", type=float, default=0.0, help="stop training after this long")
    train.add_argument("--group-pattern", default="", help="regex (RE2 syntax: no lookarounds or "
                       "backreferences) with one group (e.g. a patient id in the file name); a group stays in one split")
    train.add_argument("--quantize", action="store_true", help="also export int8 ONNX and compare it with fp32")
    train.add_argument("--unlabeled", default="", metavar="DIR", help="folder of unlabelled images inside the dataset")
    train.add_argument("--semi-supervised", default="", metavar="MODE",
                       help="pseudo-label --unlabeled: data, model, model_data, or *_iterative")
    train.add_argument("--overwrite", action="store_true", help="replace a trained model with the same id")
    train.add_argument("--on-server", action="store_true", help="DATASET_DIR is a folder on the server")
    train.add_argument("--detach", action="store_true", help="print the job id and return at once")
    train.add_argument("--no-progress", action="store_true", help="no live progress line")

    jobs = command("jobs", run_jobs, "List training jobs, newest first.")
    jobs.add_argument("--json", action="store_true", help="one JSON object per job")

    job = command("job", run_job, "Show one training job and its results.")
    job.add_argument("job_id", metavar="ID", help="job id (from `bioclass jobs`)")
    job.add_argument("--out", default="", metavar="DIR", help="also save the confusion matrix and curves (PNG)")
    job.add_argument("--json", action="store_true", help="the job as one JSON object")

    cancel = command("cancel", run_cancel, "Cancel a queued or running training job.")
    cancel.add_argument("job_id", metavar="ID", help="job id (from `bioclass jobs`)")

    command("datasets", run_datasets, "List uploaded training datasets.")

    preview = command("augment-preview", run_preview, "Show what an augmentation list does to an image.")
    preview.add_argument("image", metavar="IMAGE", help="image file to augment")
    preview.add_argument("--augment", required=True, metavar="CONFIG", help="augmentation list (JSON or YAML file)")
    preview.add_argument("--count", type=int, default=4, help="augmented versions to make (default 4)")
    preview.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    preview.add_argument("--out", default="augment-preview", metavar="DIR", help="folder for the PNG files")


def _training(args):
    from bioclass.client import Client

    client = Client(args.server)
    return client, client.training


def run_train(args) -> int:
    client, training = _training(args)
    with client:
        options = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                     ("learning_rate", args.lr), ("seed", args.seed),
                                     ("max_seconds", args.max_seconds), ("quantize", args.quantize),
                                     ("overwrite", args.overwrite), ("model_id", args.name),
                                     ("semi_supervised", args.semi_supervised), ("scale", args.scale),
                                     ("tile", args.tile), ("pages", args.page)) if v}
        job_id = training.train(args.dataset, args.arch, on_server=args.on_server, augmentation=args.augment,
                                image_size=args.image_size, group_pattern=args.group_pattern,
                                unlabelled_dir=args.unlabeled, **options)
        print(f"job {job_id} queued", file=sys.stderr)
        if args.detach:
            print(job_id)
            return 0
        live = not args.no_progress and sys.stderr.isatty()
        for update in training.watch(job_id):
            _show_update(update, live)
        if live:
            sys.stderr.write("\n")
        job = training.job(job_id)
    _print_job(job)
    return 0 if job.state == _state("succeeded") else 1


def _show_update(update, live: bool) -> None:
    for line in update.log:
        if live:
            sys.stderr.write("\r\033[K")
        print(line, file=sys.stderr)
    if live:
        sys.stderr.write("\r\033[K" + progress_line(update.progress))
        sys.stderr.flush()


def progress_line(p, width: int = 24) -> str:
    """[#####.....] stage epoch e/E step s/S loss ... ETA ..."""
    done = p.step / p.steps if p.steps else 0.0
    filled = int(width * done)
    epoch = f" epoch {p.epoch}/{p.epochs}" if p.epochs else ""
    step = f" step {p.step}/{p.steps}" if p.steps else ""
    eta = f" ETA {_duration(p.eta_seconds)}" if p.eta_seconds else ""
    loss = f" loss {p.loss:.4f}" if p.steps else ""
    return f"[{'#' * filled}{'.' * (width - filled)}] {p.stage or 'queued'}{epoch}{step}{loss}{eta}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def run_jobs(args) -> int:
    from bioclass.training import state_name

    client, training = _training(args)
    with client:
        jobs = training.jobs()
    if args.json:
        for j in jobs:
            print(json.dumps({"id": j.id, "state": state_name(j.state), "arch": j.request.config.arch,
                              "model_id": j.model_id, "created": j.created, "error": j.error}))
        return 0
    rows = [[j.id, state_name(j.state), j.request.config.arch, _when(j.created), j.model_id or "-",
             j.error[:60]] for j in jobs]
    print(table(rows, ["ID", "STATE", "ARCH", "CREATED", "MODEL", "ERROR"]))
    return 0


def run_job(args) -> int:
    client, training = _training(args)
    with client:
        job = training.job(args.job_id)
    if args.json:
        from google.protobuf.json_format import MessageToDict

        as_dict = MessageToDict(job, preserving_proto_field_name=True)
        as_dict.pop("confusion_png", None)
        as_dict.pop("curves_png", None)
        print(json.dumps(as_dict))
    else:
        _print_job(job, details=True)
    if args.out:
        _save_plots(job, Path(args.out))
    return 0


def _print_job(job, details: bool = False) -> None:
    from bioclass.training import state_name

    print(f"job {job.id}: {state_name(job.state)}" + (f" - {job.error}" if job.error else ""))
    print(f"  arch {job.request.config.arch}; weights: {job.weights_source or 'from scratch'}")
    if job.model_id:
        print(f"  served as model {job.model_id}")
    if job.dataset.labels:
        print(f"  classes: {', '.join(job.dataset.labels)}; images: "
              + ", ".join(f"{k} {v}" for k, v in sorted(job.dataset.counts.items())))
    for skipped in job.dataset.skipped:
        print(f"  skipped {skipped.name}: {skipped.reason}")
    m = job.test_metrics
    if m.images:
        print(f"  held-out ({m.images} images): accuracy {number(m.accuracy)}, balanced {number(m.balanced_accuracy)}, "
              f"F1 {number(m.f1_macro)}, MCC {number(m.mcc)}, AUROC {number(m.auroc)}")
    if job.exports:
        print(table([[e.format, e.file, f"{e.size_bytes / 1e6:.2f} MB", number(e.accuracy), number(e.ms_per_image, 2)]
                     for e in job.exports], ["FORMAT", "FILE", "SIZE", "ACCURACY", "MS/IMG"]))
    for r in job.pseudo_labels:
        known = f"; accuracy {number(r.accuracy)} on {r.with_known_label} known" if r.with_known_label else ""
        print(f"  pseudo-labels round {r.round}: {r.pseudo_labelled}/{r.unlabelled} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(r.counts.items()))}){known}")
    if details and job.history:
        print(table([[h.stage, str(h.epoch), number(h.train_loss, 4), number(h.val_loss, 4), number(h.val_accuracy),
                      f"{h.seconds:.1f}"] for h in job.history],
                    ["STAGE", "EPOCH", "TRAIN_LOSS", "VAL_LOSS", "VAL_ACC", "SECONDS"]))


def _save_plots(job, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("confusion.png", job.confusion_png), ("curves.png", job.curves_png)):
        if data:
            (folder / f"{job.id}-{name}").write_bytes(data)
            print(f"wrote {folder / f'{job.id}-{name}'}", file=sys.stderr)


def run_cancel(args) -> int:
    from bioclass.training import state_name

    client, training = _training(args)
    with client:
        job = training.cancel(args.job_id)
    print(f"job {job.id}: cancel requested ({state_name(job.state)})")
    return 0


def run_datasets(args) -> int:
    client, training = _training(args)
    with client:
        found = training.datasets()
    print(table([[d.id, d.name, str(d.images), ", ".join(d.labels), _when(d.created)] for d in found],
                ["ID", "NAME", "IMAGES", "CLASSES", "CREATED"]))
    return 0


def run_preview(args) -> int:
    from PIL import Image as PILImage

    client, training = _training(args)
    with client:
        images = training.preview_augmentation(args.image, Path(args.augment), args.count, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, pixels in enumerate(images):
        path = out / f"{Path(args.image).stem}-aug{i}.png"
        PILImage.fromarray(pixels).save(path)
        print(path)
    return 0


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else "-"


def _state(name: str) -> int:
    from bioclass.v1 import training_pb2

    return training_pb2.JobState.Value(f"JOB_{name.upper()}")
