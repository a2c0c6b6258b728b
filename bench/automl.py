"""AutoML benchmarks: semi-supervised against supervised-only, fp32 against int8, an AutoML run.

    .venv/bin/python bench/automl.py semi  [--threshold 0.8]  # 25 labelled per class, the rest unlabelled
    .venv/bin/python bench/automl.py quant                  # int8 variants of the compact model
    .venv/bin/python bench/automl.py automl [--budget 5] [--modes none]  # AutoML, tested on held-out patients

malaria-cells-50 is split by patient (the P<number> in the file name): a quarter of the patients
are the test set; from the others 25 images per class are labelled and the rest are unlabelled
(kept in class folders, so the pseudo-labels' accuracy is known). Everything trains from scratch:
no pretrained weights exist on this machine. Results are printed as Markdown and saved as JSON
under bench/work-automl/.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
MALARIA = ROOT.parent / "shared" / "datasets" / "malaria-cells-50"
WORK = ROOT / "bench" / "work-automl"
LABELLED_PER_CLASS = 25
RECIPE = dict(image_size=32, batch_size=16, learning_rate=3e-3, epochs=60, patience=-1, serve_format="onnx",
              augmentation="- {technique: flip_horizontal}\n- {technique: flip_vertical}\n")


def patient(name: str) -> str:
    found = re.search(r"C\d+[A-Za-z]*P(\d+)", name) or re.search(r"(C\d+)", name)
    return found.group(0) if found else name


def build_split(seed: int = 0) -> Path:
    """WORK/data/{train/<class>, train/unlabelled/<class>, test/<class>}: test patients held out."""
    target = WORK / "data"
    if (target / "done").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    rng = random.Random(seed)
    files = {label: sorted((MALARIA / label).iterdir()) for label in ("Parasitized", "Uninfected")}
    patients = sorted({patient(p.name) for paths in files.values() for p in paths})
    test_patients = set(rng.sample(patients, len(patients) // 4))
    for label, paths in files.items():
        pool = [p for p in paths if patient(p.name) not in test_patients]
        rng.shuffle(pool)
        places = [("test", [p for p in paths if patient(p.name) in test_patients]),
                  ("train", pool[:LABELLED_PER_CLASS]), ("train/unlabelled", pool[LABELLED_PER_CLASS:])]
        for folder, chosen in places:
            (target / folder / label).mkdir(parents=True, exist_ok=True)
            for path in chosen:
                shutil.copy(path, target / folder / label / path.name)
    (target / "done").write_text("", encoding="utf-8")
    return target


def server():
    from server_process import ServerProcess

    return ServerProcess("--no-builtin", work_dir=WORK / "server", env={"BIOCLASS_INFERENCE_THREADS": "2"})


def semi(args) -> dict:
    """The same architecture and training-time budget with each mode; accuracy on the test patients."""
    from bioclass.client import Client

    data = build_split()
    process = server()
    results = {}
    try:
        with Client(process.address, timeout=None) as client:
            dataset_id = client.training.upload_dataset(data / "train").id
            for mode in args.modes:
                started = time.perf_counter()
                job_id = client.training.train(data / "train", args.arch, dataset_id=dataset_id,
                                               unlabelled_dir="unlabelled",
                                               semi_supervised="" if mode == "none" else mode,
                                               max_seconds=args.seconds, threads=2, val_fraction=0.2,
                                               pseudo_threshold=args.threshold,
                                               test_fraction=0.0, **RECIPE)
                job = client.training.wait(job_id)
                evaluation = client.evaluate(data / "test", [job.model_id]).evaluations[0]
                results[mode] = {"test_accuracy": evaluation.accuracy, "test_f1_macro": evaluation.f1_macro,
                                 "wall_s": time.perf_counter() - started, "job_id": job_id, "state": job.state,
                                 "pseudo_labels": [{"round": r.round, "pseudo_labelled": r.pseudo_labelled,
                                                    "of": r.unlabelled, "counts": dict(r.counts),
                                                    "accuracy": r.accuracy} for r in job.pseudo_labels]}
                print(mode, json.dumps(results[mode]), flush=True)
    finally:
        process.stop()
    return {"arch": args.arch, "seconds": args.seconds, "threshold": args.threshold, "test_images": sum(1 for _ in (data / "test").rglob("*.png")),
            "results": results}


def quant(args) -> dict:
    """Train the compact model briefly, then build and time every int8 variant against fp32."""
    import numpy as np

    from bioclass.client import Client
    from bioclass.server.automl import quantize
    from bioclass.server.cards import read_card
    from bioclass.server.training import data as images

    data = build_split()
    process = server()
    out = {}
    try:
        with Client(process.address, timeout=None) as client:
            for arch in args.archs:
                job = client.training.wait(client.training.train(
                    data / "train", arch, on_server=True, unlabelled_dir="unlabelled", max_seconds=args.seconds,
                    threads=2, val_fraction=0.2, test_fraction=0.0, **{**RECIPE, "image_size": args.image_size}))
                export = WORK / "server" / "jobs" / job.id / "export"
                card = read_card(export)
                calibration = images.prepared_tensor(_image_set(data / "train", card.labels), card).numpy()
                test = _image_set(data / "test", card.labels)
                x, y = images.prepared_tensor(test, card).numpy(), test.targets
                baseline, measured = quantize.measure_candidates(export / "model.onnx", WORK, calibration[:64], x,
                                                                 np.asarray(y), threads=2)
                out[arch] = {"fp32": baseline, "int8": measured, "chosen": quantize.fastest(baseline, measured)}
                print(arch, json.dumps(out[arch], default=str), flush=True)
    finally:
        process.stop()
    return out


def _image_set(root: Path, labels):
    from bioclass.server.training import data as images

    items = [(str(p.relative_to(root)), i) for i, label in enumerate(labels) for p in sorted((root / label).glob("*"))]
    return images.load(root, items, [])


def automl(args) -> dict:
    from bioclass.client import Client

    data = build_split()
    process = server()
    try:
        with Client(process.address, timeout=None) as client:
            started = time.perf_counter()
            run = client.automl.start(data / "train", args.budget, on_server=True, unlabelled_dir="unlabelled",
                                      threads=2, model_id="bench-automl", overwrite=True,
                                      semi_supervised_modes=args.modes)
            run = client.automl.wait(run.id)
            wall = time.perf_counter() - started
            evaluation = client.evaluate(data / "test", [run.model_id, run.int8_model_id]).evaluations
    finally:
        process.stop()
    return {"budget_min": args.budget, "modes": args.modes, "wall_s": wall, "state": run.state, "error": run.error,
            "trials": [{"number": t.number, "state": t.state, "arch": t.architecture, "params": dict(t.params),
                        "value": t.value, "seconds": t.seconds} for t in run.leaderboard],
            "quantization": run.quantization, "exports": [str(e) for e in run.exports],
            "test_accuracy": {e.model_id: e.accuracy for e in evaluation}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("semi")
    p.add_argument("--seconds", type=float, default=120.0, help="training time per run, teachers and students shared")
    p.add_argument("--arch", default="mobilenetv3_small_050")
    p.add_argument("--modes", nargs="+", default=["none", "data", "model_data"])
    p.add_argument("--threshold", type=float, default=0.8, help="pseudo-label confidence")
    p = sub.add_parser("quant")
    p.add_argument("--archs", nargs="+", default=["mobilenetv3_small_100", "resnet18"])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--image-size", type=int, default=32)
    p = sub.add_parser("automl")
    p.add_argument("--budget", type=float, default=5.0, help="minutes")
    p.add_argument("--modes", nargs="+", default=["none", "data", "model_data"], help="semi-supervised candidates")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    result = {"semi": semi, "quant": quant, "automl": automl}[args.what](args)
    (WORK / f"{args.what}.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
