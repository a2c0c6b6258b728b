"""AutoKeras 3.0 ImageClassifier under a wall-clock budget, tested on a held-out folder.

Runs inside bench/.venv-autokeras (bash bench/setup_autokeras.sh), never in our venv: TensorFlow
must not share a process with torch.

    bench/.venv-autokeras/bin/python bench/autokeras_run.py --train DIR --test DIR --budget 10 --out FILE.json

DIR holds one folder per class (a folder named `unlabelled` is ignored: AutoKeras is supervised).
Validation: a seeded stratified 20% of the labelled images, passed as validation_data (bioclass
AutoML also validates on a stratified 20%); AutoKeras's objective is the validation loss.

How the budget is enforced (AutoKeras has no time limit of its own): `max_trials` is set far above
what fits, and a Keras callback passed to `fit` watches the clock from the moment `fit` is called.
At the deadline it sets `model.stop_training` at the end of the current batch, so the running
trial ends early and is recorded with the best epoch it reached; when the next trial's training
begins it raises keras_tuner's FatalError, which ends the search. AutoKeras's final refit on
train + validation is skipped (it would run past the budget): the best trial's checkpoint and
preprocessing pipeline are loaded and evaluated on the test folder. The time to evaluate is
reported separately.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image

VAL_FRACTION = 0.2  # bioclass AutoML's default
PERCENTILES = (1.0, 99.8)  # bioclass's percentile scaling's default
DEADLINE = {"at": float("inf")}  # module state: AutoKeras deep-copies the callbacks of every trial


def load_folder(root: Path, size: int, pages: list[int]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    labels = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "unlabelled")
    images, targets = [], []
    for index, label in enumerate(labels):
        for path in sorted((root / label).iterdir()):
            images.append(load_image(path, size, pages))
            targets.append(index)
    return np.stack(images).astype(np.float32), np.asarray(targets), labels


def load_image(path: Path, size: int, pages: list[int]) -> np.ndarray:
    """size x size x 3 in 0..255. 8-bit images: as RGB. 16-bit or the given pages of a multi-page TIFF: each
    page scaled from its PERCENTILES to 0..255 (a 16-bit range cast to 8 bits would clip at 255), resized,
    then one page repeated to 3 channels, two pages with a zero third channel (as bioclass feeds them)."""
    with Image.open(path) as image:
        if not pages and image.mode not in ("I;16", "I;16B", "I;16L", "I", "F"):
            return np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))
        planes = []
        for page in pages or [0]:
            image.seek(page)
            plane = np.asarray(image, dtype=np.float32)
            low, high = np.percentile(plane, PERCENTILES)
            plane = np.clip((plane - low) / max(high - low, 1e-6), 0, 1) * 255
            planes.append(np.asarray(Image.fromarray(plane.astype(np.float32)).resize((size, size), Image.BILINEAR)))
    if len(planes) == 1:
        planes *= 3
    if len(planes) == 2:
        planes.append(np.zeros_like(planes[0]))
    return np.stack(planes, axis=-1)


def balanced_accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes present in y."""
    return float(np.mean([np.mean(predicted[y == label] == label) for label in np.unique(y)]))


def stratified_validation(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a seeded `fraction` of each class, as bioclass picks its validation images.

    AutoKeras's own validation_split takes the last rows unshuffled: with images listed class by
    class that is one class only.
    """
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        picked += members[:max(1, round(len(members) * fraction))].tolist()
    return np.sort(np.asarray(picked))


def budget_callback():
    import keras
    from keras_tuner import errors

    class StopAtDeadline(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if time.monotonic() >= DEADLINE["at"]:
                raise errors.FatalError("time budget spent")

        def on_train_batch_end(self, batch, logs=None):
            if time.monotonic() >= DEADLINE["at"]:
                self.model.stop_training = True

    return StopAtDeadline()


def best_so_far(classifier):
    """The best finished trial's model and pipeline (what `predict` uses after a complete search)."""
    from autokeras import pipeline as pipeline_module

    tuner = classifier.tuner
    best = tuner.oracle.get_best_trials(1)
    if not best:
        return None, None, None
    trial = best[0]
    return trial, tuner.load_model(trial), pipeline_module.load_pipeline(tuner._pipeline_path(trial.trial_id))


def trial_rows(classifier) -> list[dict]:
    rows = []
    for trial in classifier.tuner.oracle.trials.values():
        objective = trial.score
        rows.append({"id": trial.trial_id, "status": str(trial.status), "score": objective,
                     "values": {k: v for k, v in trial.hyperparameters.values.items()
                                if any(s in k for s in ("block_type", "image_block", "optimizer", "learning_rate",
                                                        "pretrained", "augment", "normalize"))}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=10.0, help="minutes of search")
    parser.add_argument("--size", type=int, default=64, help="images are resized to SIZE x SIZE")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", type=int, nargs="*", default=[], help="pages of multi-page TIFFs, as channels")
    parser.add_argument("--work", type=Path, required=True, help="AutoKeras's project folder (emptied)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import autokeras as ak
    import keras
    from keras_tuner import errors

    keras.utils.set_random_seed(args.seed)
    x_train, y_train, labels = load_folder(args.train, args.size, args.pages)
    x_test, y_test, test_labels = load_folder(args.test, args.size, args.pages)
    assert labels == test_labels, (labels, test_labels)
    shutil.rmtree(args.work, ignore_errors=True)
    classifier = ak.ImageClassifier(num_classes=len(labels), max_trials=10_000, overwrite=True,
                                    directory=str(args.work), project_name="search", seed=args.seed)
    started = time.monotonic()
    DEADLINE["at"] = started + args.budget * 60
    ended_by = "all trials done"
    val = stratified_validation(y_train, VAL_FRACTION, args.seed)
    fit = np.setdiff1d(np.arange(len(y_train)), val)
    fit = np.random.default_rng(args.seed).permutation(fit)
    try:
        classifier.fit(x_train[fit], y_train[fit], validation_data=(x_train[val], y_train[val]),
                       callbacks=[budget_callback()], verbose=0)
    except errors.FatalError:
        ended_by = "time budget"
    except RuntimeError as exc:  # keras_tuner: too many failed trials in a row
        ended_by = f"search failed: {' '.join(str(exc).split())[:300]}"
    search_s = time.monotonic() - started
    trial, model, pipeline = best_so_far(classifier)
    result = {"tool": "autokeras", "versions": {"autokeras": ak.__version__, "keras": keras.__version__,
                                                "tensorflow": tf.__version__},
              "budget_min": args.budget, "size": args.size, "pages": args.pages, "seed": args.seed, "threads": args.threads,
              "train_images": len(fit), "val_images": len(val), "test_images": len(x_test), "labels": labels,
              "search_s": search_s, "ended_by": ended_by, "trials": trial_rows(classifier),
              "load_average": os.getloadavg()}
    if model is not None:
        evaluation_started = time.monotonic()
        dataset = classifier._adapt(x_test, classifier.inputs)
        predicted = pipeline.postprocess(model.predict(pipeline.transform_x(dataset), verbose=0))
        predicted = np.asarray(predicted).reshape(-1).astype(int)
        result.update(best_trial=trial.trial_id, val_score=trial.score,
                      test_accuracy=float(np.mean(predicted == y_test)),
                      test_balanced_accuracy=balanced_accuracy(y_test, predicted),
                      evaluate_s=time.monotonic() - evaluation_started,
                      parameters=model.count_params())
    result["wall_s"] = time.monotonic() - started
    args.out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "trials"}, default=str))


if __name__ == "__main__":
    main()
