"""AutoML benchmarks: semi-supervised against supervised-only, fp32 against int8, an AutoML run.

    .venv/bin/python bench/automl.py semi  [--threshold 0.8]  # 25 labelled per class, the rest unlabelled
    .venv/bin/python bench/automl.py quant                  # int8 variants against fp32, timed as served
    .venv/bin/python bench/automl.py automl [--budget 5] [--modes none] [--dataset wbc|dapi]  # AutoML, held-out test
    .venv/bin/python bench/automl.py versus --dataset malaria|wbc [--budget 10]  # bioclass AutoML, then AutoKeras
    .venv/bin/python bench/automl.py autokeras --dataset malaria|wbc [--budget 10]  # AutoKeras alone
    .venv/bin/python bench/automl.py trials --dataset malaria  # the last run's trials: validation vs test
    .venv/bin/python bench/automl.py tables  # Markdown tables from the saved JSON files
    .venv/bin/python bench/automl.py baseline --dataset malaria|wbc|cric|jurkat|dapi|fields  # features + random forest
    .venv/bin/python bench/automl_suite.py run|tables  # every set, bioclass + AutoKeras + baseline (its docstring)

`versus` runs both tools back to back on the same labelled training folder and test folder, each with
the same wall-clock budget (AutoKeras in bench/.venv-autokeras: bash bench/setup_autokeras.sh, run by
bench/autokeras_run.py). blood-cells-wbc is split stratified, 30% test, seed 0; it has
near-duplicate images across the split, so its accuracies are optimistic.

dapi is a small large-field 16-bit set cut from the two 1280x1024 DAPI fields of tiff16-samples
(IICBU-2008 Binucleate, one field per class): each field in a 4x4 grid of 320x256 crops, the top three
rows (12 per class) for training, the bottom row (4 per class, a part of the field never seen) for
test. With one field per class it measures that fields are seen at native scale, not how a model
generalises across wells.

fields checks scale: 20 training and 6 test fields per class at the full 1280x1024, each a mosaic of
flipped crops of the same two fields (training from the top three rows, test from the bottom row;
build_fields_split). It is the size of the held-out large-field sets; its accuracy is not.

malaria-cells-50 is split by patient (the P<number> in the file name): a quarter of the patients
are the test set; from the others 25 images per class are labelled and the rest are unlabelled
(kept in class folders, so the pseudo-labels' accuracy is known). Everything trains from scratch:
no pretrained weights exist on this machine. Results are printed as Markdown and saved as JSON
under bench/work-automl/.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from paths import DATASETS  # noqa: E402 - the tests' module, on the path just above

MALARIA = DATASETS / "malaria-cells-50"
WBC = DATASETS / "blood-cells-wbc"
CRIC = DATASETS / "cric-cervix-cells"
JURKAT = DATASETS / "jurkat-cell-cycle"
DAPI_FIELDS = {"binucleate": "binucleate_*.tif", "non_binu": "non_binu_*.tif"}
DAPI_GRID = (4, 4)  # rows, columns of crops per field; the last row is the test set
FIELDS_PER_CLASS = {"train": 20, "test": 6}  # the fields set: held-out large-field sets have ~20 per class
WBC_TEST_FRACTION = 0.3  # blood-cells-wbc's and cric-cervix-cells's stratified test share
WORK = ROOT / "bench" / "work-automl"
LABELLED_PER_CLASS = 25
VAL_FRACTION = 0.2  # AutoML's default, so Train and AutoML validate on as many images
RECIPE = dict(image_size=32, batch_size=16, learning_rate=3e-3, epochs=60, patience=-1, serve_format="onnx",
              augmentation="- {technique: flip_horizontal}\n- {technique: flip_vertical}\n")


def patient(name: str) -> str:
    found = re.search(r"C\d+[A-Za-z]*P(\d+)", name) or re.search(r"(C\d+)", name)
    return found.group(0) if found else name


def _built_once(target: Path, fill) -> Path:
    """target, filled by fill(target) unless an earlier build finished there (its "done" marker)."""
    if not (target / "done").exists():
        shutil.rmtree(target, ignore_errors=True)
        fill(target)
        (target / "done").write_text("", encoding="utf-8")
    return target


def build_split(seed: int = 0) -> Path:
    """WORK/data/{train/<class>, train/unlabelled/<class>, test/<class>}: test patients held out."""
    return _built_once(WORK / "data", lambda target: _split_malaria(target, random.Random(seed)))


def _split_malaria(target: Path, rng: random.Random) -> None:
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
    _write_validation_csv(target / "train", rng)


def _write_validation_csv(train: Path, rng: random.Random) -> None:
    """splits.csv: VAL_FRACTION of each class's labelled images for validation, the rest train, none test.

    The Train API cannot say test_fraction=0 (proto3 drops zeros, so the server's default 0.15
    applied and the earlier semi runs trained on 32 of the 50 labelled images); a splits CSV can.
    AutoML trials ask for test_fraction=0 themselves and use VAL_FRACTION too.
    """
    rows = []
    for folder in sorted(p for p in train.iterdir() if p.is_dir() and p.name != "unlabelled"):
        names = sorted(p.name for p in folder.iterdir())
        rng.shuffle(names)
        rows += [f"{folder.name}/{name},val" for name in names[:round(len(names) * VAL_FRACTION)]]
    (train / "splits.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def build_wbc_split(seed: int = 0, source: Path = WBC, name: str = "wbc") -> Path:
    """WORK/<name>/{train/<class>, test/<class>}: stratified, WBC_TEST_FRACTION of each class for test."""
    return _built_once(WORK / name, lambda target: _split_stratified(source, target, random.Random(seed)))


def _split_stratified(source: Path, target: Path, rng: random.Random) -> None:
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        paths = sorted(folder.iterdir())
        rng.shuffle(paths)
        cut = round(len(paths) * WBC_TEST_FRACTION)
        for split, chosen in (("test", paths[:cut]), ("train", paths[cut:])):
            (target / split / folder.name).mkdir(parents=True, exist_ok=True)
            for path in chosen:
                shutil.copy(path, target / split / folder.name / path.name)


def build_dapi_split() -> Path:
    """WORK/dapi/{train/<class>, test/<class>}: 320x256 16-bit crops, the bottom row of each field for test."""
    return _built_once(WORK / "dapi", _split_dapi)


def _split_dapi(target: Path) -> None:
    import tifffile

    rows, columns = DAPI_GRID
    for label, pattern in DAPI_FIELDS.items():
        field = tifffile.imread(next((DATASETS / "tiff16-samples").glob(pattern)))
        height, width = field.shape[0] // rows, field.shape[1] // columns
        for row in range(rows):
            folder = target / ("test" if row == rows - 1 else "train") / label
            folder.mkdir(parents=True, exist_ok=True)
            for column in range(columns):
                crop = field[row * height:(row + 1) * height, column * width:(column + 1) * width]
                tifffile.imwrite(folder / f"r{row}c{column}.tif", crop)


def build_fields_split(seed: int = 0) -> Path:
    """WORK/fields/{train/<class>, test/<class>}: full 1280x1024 16-bit fields, FIELDS_PER_CLASS per class.

    shared/ holds one such field per class, so each field here is a mosaic of that field's 320x256 crops
    (DAPI_GRID), each flipped at random: training fields from the top three rows, test fields from the
    bottom row only. It checks what one real field cannot: a run over ~20 full-size fields per class fits
    its budget and serves a model, seeing each field at native scale. Accuracy on it says little about
    generalising across wells (the crops repeat); the seams between crops are not in real fields.
    """
    return _built_once(WORK / "fields", lambda target: _mosaic_fields(target, random.Random(seed)))


def _mosaic_fields(target: Path, rng: random.Random) -> None:
    import numpy as np
    import tifffile

    rows, columns = DAPI_GRID
    for label, pattern in DAPI_FIELDS.items():
        field = tifffile.imread(next((DATASETS / "tiff16-samples").glob(pattern)))
        height, width = field.shape[0] // rows, field.shape[1] // columns
        crops = [field[r * height:(r + 1) * height, c * width:(c + 1) * width]
                 for r in range(rows) for c in range(columns)]
        for split, count, pool in (("train", FIELDS_PER_CLASS["train"], crops[:-columns]),
                                   ("test", FIELDS_PER_CLASS["test"], crops[-columns:])):
            folder = target / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                tiles = [_flipped(rng.choice(pool), rng) for _ in range(rows * columns)]
                mosaic = np.block([[tiles[r * columns + c] for c in range(columns)] for r in range(rows)])
                tifffile.imwrite(folder / f"field{index:02d}.tif", mosaic)


def _flipped(crop, rng: random.Random):
    if rng.random() < 0.5:
        crop = crop[::-1]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


STRATIFIED = {"wbc": WBC, "cric": CRIC, "jurkat": JURKAT}  # split stratified, WBC_TEST_FRACTION for test
PAGES = {"jurkat": (0, 1)}  # label-free: brightfield and darkfield; page 2 (the DNA stain) gives the phase away


def dataset_folders(name: str, labelled_only: bool = False) -> tuple[Path, Path, str]:
    """(train, test, unlabelled folder name under train or "") of a benchmark dataset."""
    if name in ("dapi", "fields"):
        data = build_dapi_split() if name == "dapi" else build_fields_split()
        return data / "train", data / "test", ""
    if name in STRATIFIED:
        data = build_wbc_split(source=STRATIFIED[name], name=name)
        return data / "train", data / "test", ""
    data = build_split()
    if labelled_only:  # a folder without unlabelled/, which would otherwise be read as a third class
        labelled = data / "labelled"
        if not labelled.exists():
            shutil.copytree(data / "train", labelled, ignore=shutil.ignore_patterns("unlabelled", "splits.csv"))
        return labelled, data / "test", ""
    return data / "train", data / "test", "unlabelled"


def server():
    """The real server; it may read WORK's folders (on_server datasets need a data root)."""
    from server_process import ServerProcess

    return ServerProcess("--no-builtin", "--data-root", str(WORK), work_dir=WORK / "server",
                         env={"BIOCLASS_INFERENCE_THREADS": "2"})


def semi(args) -> dict:
    """The same architecture and training-time budget with each mode; accuracy on the test patients."""
    from bioclass.client import Client

    data = build_split()
    process = server()
    results = {"load_average_before": os.getloadavg()}
    try:
        with Client(process.address, timeout=None) as client:
            dataset_id = client.training.upload_dataset(data / "train").id
            for mode in args.modes:
                started = time.perf_counter()
                job_id = client.training.train(data / "train", args.arch, dataset_id=dataset_id,
                                               unlabelled_dir="unlabelled", splits_csv="splits.csv",
                                               semi_supervised="" if mode == "none" else mode,
                                               max_seconds=args.seconds, threads=2,
                                               pseudo_threshold=args.threshold, **RECIPE)
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
    results["load_average_after"] = os.getloadavg()
    return {"arch": args.arch, "seconds": args.seconds, "threshold": args.threshold, "test_images": sum(1 for _ in (data / "test").rglob("*.png")),
            "results": results}


def quant(args) -> dict:
    """Train each model briefly, build every int8 variant, and time all against fp32 as the server runs them.

    Accuracy is on the test patients; latency in ms per image at batch 1 and at the server's largest
    batch, with the server's session options at 2 threads and at 1, in interleaved rounds (the CPU
    is shared).
    """
    import numpy as np

    from bioclass.client import Client
    from bioclass.server.automl import quantize
    from bioclass.server.cards import read_card
    from bioclass.server.training import data as images

    data = build_split()
    process = server()
    out = {"load_average_before": os.getloadavg(), "models": []}
    try:
        with Client(process.address, timeout=None) as client:
            for arch in args.archs:
                for size in args.image_sizes:
                    job = client.training.wait(client.training.train(
                        data / "train", arch, on_server=True, unlabelled_dir="unlabelled", splits_csv="splits.csv",
                        max_seconds=args.seconds, threads=2, **{**RECIPE, "image_size": size}))
                    export = WORK / "server" / "jobs" / job.id / "export"
                    card = read_card(export)
                    calibration = images.prepared_tensor(_image_set(data / "train", card.labels), card).numpy()
                    test = _image_set(data / "test", card.labels)
                    x, y = images.prepared_tensor(test, card).numpy(), np.asarray(test.targets)
                    folder = WORK / "quant" / f"{arch.replace(':', '-')}-{size}"
                    folder.mkdir(parents=True, exist_ok=True)
                    baseline, measured = quantize.measure_candidates(export / "model.onnx", folder, calibration[:64],
                                                                     x, y, threads=2)
                    files = {"fp32": export / "model.onnx",
                             **{m["variant"]: folder / f"int8-{m['index']}.onnx" for m in measured if "error" not in m}}
                    timings = _latencies(files, x)
                    row = {"arch": arch, "image_size": size, "fp32": baseline, "int8": measured,
                           "chosen": quantize.fastest(baseline, measured), "timings": timings}
                    out["models"].append(row)
                    print(json.dumps(row, default=str), flush=True)
    finally:
        process.stop()
    out["load_average_after"] = os.getloadavg()
    return out


ROUNDS = 7
SERVING_BATCH = 32  # the server's default max_batch_size
SETTINGS = {"2 threads": 2, "1 thread": 1}  # the server's inference threads on this machine, and one


def _latencies(files: dict, x) -> dict:
    """ms_per_image: name -> setting/batch -> best and median over ROUNDS, every file timed in each round
    (fp32, int8, fp32, int8, ...), so a burst of other work on the shared CPU hits all of them alike;
    load_average: after each setting."""
    import time as clock

    import numpy as np

    from bioclass.server.training import export

    result, load = {name: {} for name in files}, {}
    for setting, threads in SETTINGS.items():
        forwards = {name: export.onnx_forward(path, threads) for name, path in files.items()}
        for batch in (1, SERVING_BATCH):
            chunks = [x[i:i + batch] for i in range(0, min(len(x), 4 * SERVING_BATCH), batch)]
            rounds = {name: [] for name in files}
            for forward in forwards.values():
                forward(chunks[0])
            for _ in range(ROUNDS):
                for name, forward in forwards.items():
                    started = clock.perf_counter()
                    for chunk in chunks:
                        forward(chunk)
                    rounds[name].append((clock.perf_counter() - started) * 1000 / sum(len(c) for c in chunks))
            for name, times in rounds.items():
                result[name][f"{setting}/b{batch}"] = {"best": min(times), "median": float(np.median(times))}
        load[setting] = os.getloadavg()
    return {"ms_per_image": result, "load_average": load}


def _image_set(root: Path, labels):
    from bioclass.server.training import data as images

    items = [(str(p.relative_to(root)), i) for i, label in enumerate(labels) for p in sorted((root / label).glob("*"))]
    return images.load(root, items, [])


def automl(args) -> dict:
    from bioclass.client import Client

    train, test, unlabelled = dataset_folders(args.dataset, args.labelled_only)
    shutil.rmtree(WORK / "server" / "automl", ignore_errors=True)  # a stopped earlier run would resume
    process = server()
    load_before = os.getloadavg()
    try:
        with Client(process.address, timeout=None) as client:
            started = time.perf_counter()
            run = client.automl.start(train, args.budget, on_server=True, unlabelled_dir=unlabelled,
                                      threads=2, model_id="bench-automl", overwrite=True, seed=args.seed,
                                      semi_supervised_modes=args.modes if unlabelled else [])
            run = client.automl.wait(run.id)
            wall = time.perf_counter() - started
            evaluation = client.evaluate(test, [m for m in (run.model_id, run.int8_model_id) if m]).evaluations
    finally:
        process.stop()
    return {"tool": "bioclass", "dataset": args.dataset, "budget_min": args.budget, "seed": args.seed,
            "unlabelled": bool(unlabelled), "modes": args.modes if unlabelled else ["none"], "wall_s": wall,
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "state": run.state, "error": run.error,
            "trials": [{"number": t.number, "state": t.state, "arch": t.architecture, "params": dict(t.params),
                        "value": t.value, "seconds": t.seconds} for t in run.leaderboard],
            "best_trial": run.best_trial, "quantization": run.quantization, "exports": [str(e) for e in run.exports],
            "test_accuracy": {e.model_id: e.accuracy for e in evaluation},
            "test_balanced_accuracy": {e.model_id: e.balanced_accuracy for e in evaluation},
            "profile_and_space": [line for line in run.log if line.startswith(("dataset:", "search:"))]}


def trials(args) -> dict:
    """Every finished trial of the last AutoML run: its validation score, and its export's accuracy on
    the test folder (which the run never saw), to see how well the validation split ranks trials."""
    import numpy as np
    import onnxruntime
    import optuna
    from PIL import Image

    from bioclass.server.cards import read_card
    from bioclass.server.preprocess import prepare

    runs = WORK / "server" / "automl"
    run = max((p for p in runs.iterdir() if (p / "study.sqlite3").exists()), key=lambda p: p.stat().st_mtime)
    study = optuna.load_study(study_name="automl", storage=f"sqlite:///{run / 'study.sqlite3'}")
    test = dataset_folders(args.dataset)[1]
    files = [(path, label.name) for label in sorted(test.iterdir()) for path in sorted(label.iterdir())]
    pixels = [np.asarray(Image.open(path).convert("RGB")) for path, _ in files]
    rows = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        export = runs / "trials" / trial.user_attrs["job_id"] / "export"
        card = read_card(export)
        session = onnxruntime.InferenceSession(str(export / "model.onnx"), providers=["CPUExecutionProvider"])
        x = np.stack([prepare(p, card) for p in pixels]).astype(np.float32)
        logits = np.concatenate([session.run(None, {session.get_inputs()[0].name: x[i:i + 64]})[0]
                                 for i in range(0, len(x), 64)])
        accuracy = float(np.mean([card.output.labels[k] == label for k, (_, label) in zip(logits.argmax(1), files)]))
        rows.append({"number": trial.number, "architecture": trial.params.get("architecture", ""),
                     "validation": trial.user_attrs["metric"], "test_accuracy": accuracy,
                     "starting_point": bool(trial.user_attrs.get("starting_point"))})
    rows.sort(key=lambda r: (-r["validation"], r["number"]))
    for r in rows:
        print(f"trial {r['number']:3d}  validation {r['validation']:.2f}  test {r['test_accuracy']:.3f}  "
              f"{r['architecture']}{'  (the recipe)' if r['starting_point'] else ''}")
    validation, accuracy = np.array([r["validation"] for r in rows]), np.array([r["test_accuracy"] for r in rows])
    correlation = float(np.corrcoef(validation, accuracy)[0, 1]) if len(rows) > 2 else float("nan")
    print(f"{len(rows)} trials; correlation of validation and test: {correlation:.2f}")
    return {"run": run.name, "dataset": args.dataset, "correlation": correlation, "trials": rows}


def autokeras(args) -> dict:
    """bench/autokeras_run.py in bench/.venv-autokeras on the same folders (labelled images only)."""
    train, test, _ = dataset_folders(args.dataset)
    python = ROOT / "bench" / ".venv-autokeras" / "bin" / "python"
    if not python.exists():
        raise SystemExit("bench/.venv-autokeras is missing: run bash bench/setup_autokeras.sh")
    out = WORK / f"autokeras-{'alone-' if args.what == 'autokeras' else ''}{args.dataset}.json"
    load_before = os.getloadavg()
    subprocess.run([str(python), str(ROOT / "bench" / "autokeras_run.py"), "--train", str(train), "--test", str(test),
                    "--budget", str(args.budget), "--size", str(args.size), "--seed", str(args.seed),
                    "--work", str(WORK / f"autokeras-{args.dataset}"), "--out", str(out)], check=True)
    return {**json.loads(out.read_text(encoding="utf-8")), "dataset": args.dataset, "load_average_before": load_before}


def versus(args) -> dict:
    """bioclass AutoML, then AutoKeras, back to back under the same budget, split and labelled images."""
    result = {"bioclass": automl(args)}
    print("bioclass", json.dumps({k: v for k, v in result["bioclass"].items() if k != "trials"}), flush=True)
    result["autokeras"] = autokeras(args)
    return result


def baseline(args) -> dict:
    """Handcrafted features (the classical candidates' bioclass-texture set, at their input size, in native-scale
    tiles for images over 512 px) and a 500-tree random forest on the labelled training images, scored on the
    test folder: the floor."""
    import numpy as np

    from bioclass.server import measures
    from bioclass.server.classical import heads
    from bioclass.server.classical import train as classical

    train, test, _ = dataset_folders(args.dataset, labelled_only=True)
    labels = sorted(p.name for p in train.iterdir() if p.is_dir())
    pages = PAGES.get(args.dataset, ())
    started = time.perf_counter()
    (train_pixels, y_train), (test_pixels, y_test) = _decoded(train, labels, pages), _decoded(test, labels, pages)
    card = classical.classical_card("baseline", train_pixels, labels)
    if pages:  # two pages: the product's rule, a 3-channel input with a zero third channel
        card = card.model_copy(update={"input": card.input.model_copy(update={"pages": pages})})

    def table(pixels) -> classical.FeatureTable:  # the product's: a row per image, or per tile of a large one
        return classical.FeatureTable.stacked([classical.feature_rows(p, card) for p in pixels],
                                              card.tiling is not None)

    x_train, x_test = table(train_pixels), table(test_pixels)
    features_s = time.perf_counter() - started
    every_train, every_test = np.arange(len(x_train.rows)), np.arange(len(x_test.rows))
    # Balanced class weights, as every baseline row was measured.
    model = heads.fit("random_forest", x_train.rows, x_train.row_targets(np.asarray(y_train), every_train),
                      args.seed, 2, balanced=True)
    probabilities = x_test.per_image(model.predict_proba(x_test.rows), every_test, np.arange(len(y_test)))
    measured = measures.compute(np.asarray(y_test), probabilities, labels, 2)
    return {"tool": "features+random_forest", "dataset": args.dataset, "seed": args.seed,
            "train_images": len(y_train), "test_images": len(y_test), "input_size": list(card.input.size),
            "accuracy": measured.accuracy, "balanced_accuracy": measured.balanced_accuracy,
            "features_ms_per_image": 1000 * features_s / (len(y_train) + len(y_test)),
            "wall_s": time.perf_counter() - started, "load_average": os.getloadavg()}


def _decoded(root: Path, labels: list[str], pages: tuple[int, ...] = ()) -> tuple[list, list[int]]:
    """Each image's pixels; with pages, the first max(pages) + 1 pages as (H, W, pages)."""
    from bioclass.images import decode_encoded, decode_pages

    def read(path: Path):
        data = path.read_bytes()
        if not pages:
            return decode_encoded(data, 0, 50_000_000)
        return decode_pages(data, max(pages) + 1, 50_000_000)[..., list(pages)]

    items = [(p, i) for i, label in enumerate(labels) for p in sorted((root / label).iterdir()) if p.is_file()]
    return [read(p) for p, _ in items], [i for _, i in items]


def tables(args) -> dict:
    """Markdown tables for bench/README.md from the saved JSON files (nothing is rerun)."""
    lines = []
    semi_file = WORK / "semi.json"
    if semi_file.exists():
        semi_result = json.loads(semi_file.read_text(encoding="utf-8"))
        lines += [f"Semi-supervised ({semi_result['arch']}, {semi_result['seconds']:.0f} s per run, threshold "
                  f"{semi_result['threshold']}, {semi_result['test_images']} test images):", "",
                  "| mode | test accuracy | macro F1 | wall s | pseudo-labelled | pseudo-label accuracy |",
                  "|---|---:|---:|---:|---:|---:|"]
        for mode, r in semi_result["results"].items():
            if not isinstance(r, dict):
                continue
            rounds = r["pseudo_labels"]
            labelled = ", ".join(f"{p['pseudo_labelled']} of {p['of']}" for p in rounds) or "-"
            correct = ", ".join(f"{p['accuracy']:.3f}" for p in rounds) or "-"
            lines.append(f"| {mode} | {r['test_accuracy']:.3f} | {r['test_f1_macro']:.3f} | {r['wall_s']:.0f} | "
                         f"{labelled} | {correct} |")
        lines.append("")
    quant_file = WORK / "quant.json"
    if quant_file.exists():
        lines += [*_quant_table(json.loads(quant_file.read_text(encoding="utf-8"))), ""]
    rows = []
    files = [*WORK.glob("versus-*.json"), *WORK.glob("automl-[mw]*.json"), *WORK.glob("autokeras-alone-*.json")]
    for path in sorted(files):
        found = json.loads(path.read_text(encoding="utf-8"))
        for run in ([found["bioclass"], found["autokeras"]] if "bioclass" in found else [found]):
            rows.append(_versus_row(path.stem, run))
    if rows:
        lines += ["| file | tool | data | budget min | wall s | trials | best | test accuracy | load avg before / after |",
                  "|---|---|---|---:|---:|---:|---|---:|---|", *rows]
    print("\n".join(lines))
    return {"markdown": lines}


def _quant_table(result: dict) -> list[str]:
    """fp32 and each int8 variant: accuracy, size, and ms per image (best of the rounds) with x faster than fp32
    at the same setting; the product's pick in bold."""
    columns = [f"{setting}/b{batch}" for setting in SETTINGS for batch in (1, SERVING_BATCH)]
    lines = ["| model | variant | test acc | size kB (x smaller) | "
             + " | ".join(f"{c.replace('/b', ' b')} ms (x)" for c in columns) + " |",
             "|---|---|---:|---:|" + "---:|" * len(columns)]
    for row in result["models"]:
        times = row["timings"]["ms_per_image"]
        base = {c: times["fp32"][c]["best"] for c in columns}
        chosen = (row.get("chosen") or {}).get("variant")
        for m in [{**row["fp32"], "variant": "fp32"}, *row["int8"]]:
            if "error" in m:
                lines.append(f"| {row['arch']} {row['image_size']} px | {m['variant']} | failed: {m['error'][:60]} |")
                continue
            name = f"**{m['variant']}** (pick)" if m["variant"] == chosen else m["variant"]
            cells = " | ".join(f"{times[m['variant']][c]['best']:.3f} ({base[c] / times[m['variant']][c]['best']:.2f})"
                               for c in columns)
            size = f"{m['size_bytes'] / 1000:.0f} ({row['fp32']['size_bytes'] / m['size_bytes']:.2f})"
            lines.append(f"| {row['arch']} {row['image_size']} px | {name} | {m['accuracy']:.3f} | {size} | {cells} |")
    return lines


def _versus_row(name: str, run: dict) -> str:
    after = run.get("load_average_after", run.get("load_average", []))  # autokeras_run.py: at its end
    load = " / ".join(" ".join(f"{v:.1f}" for v in values) or "-"
                      for values in (run.get("load_average_before", []), after))
    if run.get("tool") == "autokeras":
        best = next((t for t in run["trials"] if t["id"] == run.get("best_trial")), {})
        kind = best.get("values", {}).get("image_block_1/block_type", "?")
        return (f"| {name} | AutoKeras 3.0 ({run['size']} px) | labelled | {run['budget_min']:.0f} | "
                f"{run['wall_s']:.0f} (search {run['search_s']:.0f}) | {len(run['trials'])} | {kind} | "
                f"{run.get('test_accuracy', float('nan')):.3f} | {load} |")
    best = next((t for t in run["trials"] if t["number"] == run.get("best_trial")), {})
    params = best.get("params", {})
    done = sum(1 for t in run["trials"] if t["state"] == 2)
    accuracy = " / ".join(f"{v:.3f}" for v in run["test_accuracy"].values())
    return (f"| {name} | bioclass AutoML | {'+ unlabelled' if run.get('unlabelled') else 'labelled'} | "
            f"{run['budget_min']:.0f} | {run['wall_s']:.0f} | {len(run['trials'])} ({done} complete) | "
            f"{best.get('arch', '?')} {params.get('image_size', '?')} px {params.get('semi_supervised', '')} | "
            f"{accuracy} (fp32 / int8) | {load} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("semi")
    p.add_argument("--seconds", type=float, default=300.0, help="training time per run, teachers and students shared")
    p.add_argument("--arch", default="bioclass:small_cnn3")
    p.add_argument("--modes", nargs="+", default=["none", "data", "model_data"])
    p.add_argument("--threshold", type=float, default=0.8, help="pseudo-label confidence")
    p = sub.add_parser("quant")
    p.add_argument("--archs", nargs="+", default=["bioclass:small_cnn4", "resnet10t"],
                   help="the AutoML runs' choices (malaria, blood-cells-wbc)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--image-sizes", type=int, nargs="+", default=[48, 128], help="served size, and a larger one")
    for name in ("automl", "autokeras", "versus"):
        p = sub.add_parser(name)
        p.add_argument("--dataset", choices=["malaria", "wbc", "dapi"], default="malaria")
        p.add_argument("--budget", type=float, default=10.0 if name == "versus" else 5.0, help="minutes")
        p.add_argument("--modes", nargs="+", default=["none", "data", "model_data"],
                       help="semi-supervised candidates (when the dataset has unlabelled images)")
        p.add_argument("--labelled-only", action="store_true", help="bioclass does not see the unlabelled images")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--size", type=int, default=64, help="AutoKeras's image size (it searches none)")
    sub.add_parser("trials").add_argument("--dataset", choices=["malaria", "wbc"], default="malaria")
    p = sub.add_parser("baseline")
    p.add_argument("--dataset", choices=["malaria", *STRATIFIED, "dapi", "fields"], default="malaria")
    p.add_argument("--seed", type=int, default=0)
    sub.add_parser("tables")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.what == "tables":
        tables(args)
        return
    result = {"semi": semi, "quant": quant, "automl": automl, "autokeras": autokeras, "versus": versus,
              "trials": trials, "baseline": baseline}[args.what](args)
    if args.what == "autokeras":
        return  # autokeras_run.py wrote WORK/autokeras-alone-<dataset>.json itself
    name = args.what + (f"-{args.dataset}" if args.what in ("automl", "versus", "trials", "baseline") else "")
    name += "-labelled-only" if getattr(args, "labelled_only", False) else ""
    (WORK / f"{name}.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
