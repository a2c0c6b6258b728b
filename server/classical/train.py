"""The classical AutoML job (its own process): features once, every head cross-validated, each refitted
on all labelled images and exported as a servable model folder (card + ONNX head).

The result lists one candidate per head with its fold scores for every metric, so the AutoML run ranks
them by its own metric, the same way it ranks network trials.

Images larger than MAX_SIDE (fields of view) are not shrunk: they are cut in native-scale tiles of TILE px
(server/tiling.py, as the networks' tiled cards are), each tile is a row of features, a head learns from
the tiles with their image's label, and an image's answer is the mean of its tiles' probabilities. Shrunk
2.5x, a 1280x1024 DAPI field's nuclei lose the texture that tells binucleate cells apart: on the bench's
`fields` set (20 mosaic fields per class) the whole-field forest predicted one class for all 12 test
fields (0.500); on 256-px tiles, averaged, it scored 1.000 (three seeds).
"""
from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bioclass.errors import BioclassError, InvalidArgument
from bioclass.images import decode_encoded
from bioclass.server import measures
from bioclass.server.automl import folds as ranking
from bioclass.server.cards import CARD_FILE, ModelCard
from bioclass.server.classical import features, heads
from bioclass.server.classical.spec import JOB_ARCH as ARCH
from bioclass.server.classical.spec import HEADS, VOTE, FeatureSpec
from bioclass.server import tiling
from bioclass.server.settings import usable_cores
from bioclass.server.training import datasets
from bioclass.server.training.config import Plan as JobPlan

MAX_SIDE = 512  # images up to this size are computed whole, at their own size; larger ones in tiles
TILE = 256  # a larger image's native-scale tiles (the networks' largest field tile, automl/shape.py)
MAX_TILES = 4096  # per image; a 50-Mpx field makes about 760 tiles of TILE px
MIN_SIDE = 16
MAX_PIXELS = 50_000_000
METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "mcc", "cohen_kappa", "auroc")
TIME_SHARE_FEATURES = 0.7  # of the job's time limit; the rest is for the heads
TIMING_IMAGES = 8  # per thread


@dataclass
class Plan(JobPlan):
    head_names: tuple[str, ...] = HEADS


def plan_from(values: dict) -> Plan:
    """The job's plan from the values the scheduler sends (the heads to compare among them)."""
    return Plan.from_values(values, head_names=tuple(values.get("heads", HEADS)))


def run(plan: Plan, reporter) -> dict:
    config, started = plan.config, time.perf_counter()
    threads = config.threads or usable_cores()
    samples, _ = datasets.resolve_samples(plan.dataset_root, plan.spec)
    splits = datasets.assign_splits(plan.dataset_root, samples, plan.spec, config)
    labels = sorted({s.label for s in samples})
    images, kept = _decode(plan.dataset_root, samples, reporter)
    samples, splits = [samples[i] for i in kept], [splits[i] for i in kept]
    card = classical_card(plan.model_id, images, labels)
    if card.tiling is not None:
        reporter.log(f"images over {MAX_SIDE} px: features of each native-scale tile of "
                     f"{card.tiling.size[1]}x{card.tiling.size[0]} px, averaged per image")
    x, y, chosen = _features(images, samples, labels, card, config, threads, reporter)
    samples, splits = [samples[i] for i in chosen], [splits[i] for i in chosen]
    groups = datasets.sample_groups(samples, re.compile(plan.spec.group_pattern)) if plan.spec.group_pattern else None
    fold_list = ranking.ranking_folds(y, groups, splits, config.seed, largest=ranking.FEATURES_CV_MAX_IMAGES)
    reporter.log(f"{len(fold_list)}-fold validation of {len(y)} images" if len(fold_list) > 1
                 else f"validation on the run's split: {len(fold_list[0][1])} images")
    if x.tiles is not None:
        reporter.log(f"{len(x.rows)} tiles of {len(y)} images")
    per_image_s = (time.perf_counter() - started) / max(1, len(images))
    candidates, fitted = [], {}  # fitted: head -> (its fold probabilities, its exported ONNX file)
    for head in (h for h in plan.head_names if h != VOTE):
        reporter.check()
        if candidates and config.max_seconds and time.perf_counter() - started > config.max_seconds:
            reporter.log(f"{head}: left out, the time limit ({config.max_seconds:.0f} s) is spent")
            continue
        end = _head_end(head, plan.head_names, started + config.max_seconds) if config.max_seconds else None
        if not _affordable(head, x, y, plan.config, threads, end, len(fold_list), reporter):
            continue
        candidate, fitted[head] = _candidate(plan, head, x, y, fold_list, labels, card, per_image_s, threads,
                                             end, reporter)
        candidates.append(candidate)
    if VOTE in plan.head_names:
        if len(fitted) >= 2:
            candidates.append(_vote(plan, fitted, y, fold_list, labels, card, per_image_s, reporter))
        else:
            reporter.log(f"{VOTE}: left out, it needs two fitted heads ({len(fitted)} ran)")
    return {"labels": labels, "counts": datasets.split_counts(samples, splits), "history": [],
            "feature_set": card.features.model_dump(), "input_size": list(card.input.size),
            "validation": validation(fold_list, y, [s.path for s in samples]),
            "candidates": candidates, "seconds": time.perf_counter() - started}


def classical_card(model_id: str, images: list[np.ndarray], labels: list[str]) -> ModelCard:
    """Range scaling (the intensities as recorded, 8 or 16 bit) at the median image size; when that is more
    than MAX_SIDE, native-scale tiles of TILE px (at most the median size), their probabilities averaged."""
    heights, widths = zip(*(image.shape[:2] for image in images))
    height, width = round(float(np.median(heights))), round(float(np.median(widths)))
    tiled = max(height, width) > MAX_SIDE
    size = [min(TILE, height), min(TILE, width)] if tiled else [height, width]
    size = [max(MIN_SIDE, side) for side in size]
    color = "gray" if all(image.ndim == 2 or image.shape[2] == 1 for image in images) else "rgb"
    return ModelCard.model_validate({
        "id": model_id, "framework": "classical", "weights": "head.onnx", "format": "onnx",
        "architecture": ARCH, "input": {"size": size, "channels": 1 if color == "gray" else 3},
        "preprocessing": {"resize": "stretch", "color": color, "scale": "range"},
        **({"tiling": {"size": size, "aggregation": "mean"}} if tiled else {}),
        "output": {"labels": labels, "activation": "none"}, "features": FeatureSpec().model_dump()})


@dataclass
class FeatureTable:
    """Features of the chosen images: one row per image, or with `tiles` one row per tile of each image."""
    rows: np.ndarray  # (R, F)
    tiles: np.ndarray | None = None  # (R,) the image (0..N-1) of each row; None: row i is image i

    @classmethod
    def stacked(cls, per_image: list[np.ndarray], tiled: bool) -> "FeatureTable":
        """The table of each image's (T, F) rows, in order."""
        tiles = np.concatenate([np.full(len(rows), image) for image, rows in enumerate(per_image)])
        return cls(np.concatenate(per_image).astype(np.float32), tiles if tiled else None)

    def image_rows(self, chosen: np.ndarray) -> np.ndarray:
        """Indices of the rows of the chosen images."""
        return chosen if self.tiles is None else np.flatnonzero(np.isin(self.tiles, chosen))

    def row_targets(self, y: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each row's label (of the given rows; of every row by default)."""
        rows = np.arange(len(self.rows)) if rows is None else rows
        return y[rows] if self.tiles is None else y[self.tiles[rows]]

    def per_image(self, probabilities: np.ndarray, rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """Each chosen image's probabilities from its rows' (the mean over its tiles, as the tiled card serves)."""
        if self.tiles is None:
            return probabilities
        owners = self.tiles[rows]
        return np.stack([probabilities[owners == image].mean(axis=0) for image in chosen]).astype(np.float32)


def _decode(root: Path, samples, reporter) -> tuple[list[np.ndarray], list[int]]:
    images, kept = [], []
    for i, sample in enumerate(samples):
        try:
            images.append(decode_encoded((root / sample.path).read_bytes(), 0, MAX_PIXELS))
            kept.append(i)
        except (BioclassError, OSError, ValueError) as exc:
            reporter.log(f"skipped unreadable image {sample.path}: {exc}")
    return images, kept


def _features(images, samples, labels, card: ModelCard, config, threads: int, reporter
              ) -> tuple[FeatureTable, np.ndarray, list]:
    """Features of every image (of each of its tiles when the card tiles), or of a stratified subset when all
    would not fit the time limit. Images are computed in threads: numpy, scikit-image and mahotas release the
    GIL for most of the work (2 threads took 50 ms per 320x240 RGB image where one took 99)."""
    index = {label: i for i, label in enumerate(labels)}
    started = time.perf_counter()

    def compute(i: int) -> np.ndarray:
        return feature_rows(images[i], card)

    pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="features")
    try:
        order, rows = _affordable_order(images, samples, config, pool, threads, compute, reporter)
        remaining = [i for i in order if i not in rows]
        for i, row in zip(remaining, pool.map(compute, remaining)):
            reporter.check()
            rows[i] = row
            reporter.progress(stage="features", step=len(rows), steps=len(order),
                              rate=len(rows) / max(1e-9, time.perf_counter() - started))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a cancelled job leaves no thread computing
    y = np.asarray([index[samples[i].label] for i in order])
    if len(set(y.tolist())) < 2:
        raise InvalidArgument("fewer than two classes left after skipping unreadable images")
    return FeatureTable.stacked([rows[i] for i in order], card.tiling is not None), y, order


def feature_rows(image: np.ndarray, card: ModelCard) -> np.ndarray:
    """(T, F) features of one decoded image: one row, or one per native-scale tile when the card tiles."""
    return np.stack([features.image_features(tile, card.features)
                     for tile in tiling.network_inputs(image, card, MAX_TILES)]).astype(np.float32)


def _affordable_order(images, samples, config, pool: ThreadPoolExecutor, threads: int, compute, reporter
                      ) -> tuple[list[int], dict[int, np.ndarray]]:
    """All images, unless timing the first few says they take longer than the features' share of the limit:
    then as many as fit, taken from each class in turn (_round_robin), shuffled with the run's seed.
    Also the rows the timing computed."""
    order = list(range(len(images)))
    if not config.max_seconds:
        return order, {}
    started = time.perf_counter()
    timed = order[:TIMING_IMAGES * max(1, threads)]
    rows = dict(zip(timed, pool.map(compute, timed)))
    per_image = (time.perf_counter() - started) / len(timed)
    affordable = int(config.max_seconds * TIME_SHARE_FEATURES / max(per_image, 1e-6))
    if affordable >= len(images):
        return order, rows
    random.Random(config.seed).shuffle(order)
    by_label: dict[str, list[int]] = {}
    for i in order:
        by_label.setdefault(samples[i].label, []).append(i)
    chosen = sorted(_round_robin(list(by_label.values()), max(affordable, 2 * len(by_label))))
    reporter.log(f"features of {len(chosen)} of {len(images)} images fit the time limit "
                 f"({per_image * 1000:.0f} ms per image)")
    kept = set(chosen)
    return chosen, {i: row for i, row in rows.items() if i in kept}


def _round_robin(groups: list[list[int]], count: int) -> list[int]:
    """count members taken one from each group in turn: small classes kept whole, large ones sampled."""
    taken: list[int] = []
    for rank in range(max(map(len, groups))):
        taken.extend(members[rank] for members in groups if rank < len(members))
        if len(taken) >= count:
            return taken[:count]
    return taken


def _head_end(head: str, head_names, job_end: float) -> float | None:
    """When a growing head (heads.GROWN) must be done: it shares the time left with the growing heads after
    it. Other heads take what they take (logistic regression: 0.6 s on 2,039 images of 73 classes)."""
    if head not in heads.GROWN:
        return None
    following = list(head_names)[list(head_names).index(head):]
    return time.perf_counter() + (job_end - time.perf_counter()) / sum(h in heads.GROWN for h in following)


PROBE_ROWS = 256  # boosting's cost is timed on this many rows, then scaled to all of them


def _affordable(head: str, x: FeatureTable, y, config, threads: int, end: float | None, folds: int,
                reporter) -> bool:
    """Whether gradient boosting can grow a useful model in each fit's share of its time. One stage is timed
    on PROBE_ROWS rows and scaled to every row and class (a stage is a tree per class, a tree sorts its
    rows: n log n). On 2,555 rows of 73 classes a stage took 22 s, too long to probe in full; the probe
    took 1.3 s and estimated 19 s (13 s scaled linearly)."""
    if head != "gradient_boosting" or end is None:
        return True
    targets = x.row_targets(y)
    probe = np.random.default_rng(config.seed).permutation(len(x.rows))[:PROBE_ROWS]
    probe_targets = targets[probe]
    probe_classes = len(set(probe_targets.tolist()))
    if probe_classes < 2:
        return True  # nothing to time on: let the deadlines bound it
    started = time.perf_counter()
    heads.fit(head, x.rows[probe], probe_targets, config.seed, threads, balanced=False, size=1, stop=reporter.check)
    scale = (len(x.rows) * np.log(len(x.rows))) / (len(probe) * np.log(max(2, len(probe)))) \
        * len(set(targets.tolist())) / probe_classes
    stage_s = (time.perf_counter() - started) * scale
    share_s = (end - time.perf_counter()) / (folds + 1)
    if share_s >= heads.FEWEST_STAGES * stage_s:
        return True
    reporter.log(f"{head}: left out, one boosting stage would take about {stage_s:.1f} s, so each of its "
                 f"{folds + 1} fits would keep fewer than {heads.FEWEST_STAGES} stages in the time left")
    return False


def _candidate(plan, head: str, x: FeatureTable, y, fold_list, labels, card: ModelCard, per_image_s: float,
               threads: int, end: float | None, reporter) -> tuple[dict, tuple[list[np.ndarray], Path]]:
    """The head's result, and what a vote needs of it: its fold probabilities and its ONNX file. A growing
    head shares its time (`end`) between its fold fits and the final one, which grows as many trees or
    stages as every fold reached: it is served as validated."""
    started = time.perf_counter()
    balanced = plan.config.imbalance != "none"
    folded = fold_probabilities(head, x.rows, y, fold_list, len(labels), plan.config.seed, threads, balanced,
                                tiles=x.tiles, end=end, stop=reporter.check)
    model = heads.fit(head, x.rows, x.row_targets(y), plan.config.seed, threads, balanced=balanced,  # every image
                      size=folded.size, stop=reporter.check)
    if folded.size is not None and folded.size < heads.GROWN[head]:
        reporter.log(f"{head}: grown to {folded.size} of {heads.GROWN[head]} "
                     f"{'trees' if head == 'random_forest' else 'stages'} in the time limit")
    folder = _export_folder(plan, head, card)
    heads.export_onnx(model, x.rows.shape[1], folder / card.weights)
    return (_result(head, fold_scores(y, fold_list, folded.probabilities, labels), folder, card, started,
                    per_image_s, reporter), (folded.probabilities, folder / card.weights))


def _vote(plan, fitted: dict, y, fold_list, labels, card: ModelCard, per_image_s: float, reporter) -> dict:
    """The soft vote of every fitted head: the mean of their probabilities, on each fold as when served. Heads
    err differently (on label-free jurkat cells, logistic regression and gradient boosting on the same
    features scored 0.729 and 0.754 accuracy on the benchmark's test cells, their mean 0.776)."""
    started = time.perf_counter()
    members = list(fitted)
    probabilities = [np.mean([fitted[head][0][fold] for head in members], axis=0) for fold in range(len(fold_list))]
    folder = _export_folder(plan, VOTE, card)
    heads.export_vote([fitted[head][1] for head in members], folder / card.weights)
    reporter.log(f"{VOTE}: the mean of {', '.join(members)}")
    return {**_result(VOTE, fold_scores(y, fold_list, probabilities, labels), folder, card, started, per_image_s,
                      reporter), "members": members}


def _export_folder(plan, head: str, card: ModelCard) -> Path:
    """The head's servable folder, its card written; the caller writes the weights."""
    folder = plan.job_dir / f"export-{head}"
    folder.mkdir(parents=True, exist_ok=True)
    served = card.model_copy(update={"id": plan.model_id, "architecture": f"{ARCH}:{head}"})
    (folder / CARD_FILE).write_text(yaml.safe_dump(_card_data(served), sort_keys=False), encoding="utf-8")
    return folder


def _result(head: str, scores: dict, folder: Path, card: ModelCard, started: float, per_image_s: float,
            reporter) -> dict:
    spread = np.std(scores["accuracy"], ddof=1) if len(scores["accuracy"]) > 1 else 0.0
    reporter.log(f"{head}: accuracy {np.mean(scores['accuracy']):.4f} ± {spread:.4f} "
                 f"({time.perf_counter() - started:.1f} s)")
    return {"head": head, "scores": scores, "export_dir": str(folder), "seconds": time.perf_counter() - started,
            "size_bytes": (folder / card.weights).stat().st_size, "ms_per_image": per_image_s * 1000}


@dataclass
class Folded:
    """A head's probabilities on each fold's held-out images; for a growing head, the fewest trees or stages
    a fold's fit grew (None for other heads)."""
    probabilities: list[np.ndarray]
    size: int | None = None


def fold_probabilities(head: str, x: np.ndarray, y: np.ndarray, fold_list, classes: int, seed: int,
                       threads: int, balanced: bool, tiles: np.ndarray | None = None, end: float | None = None,
                       stop=None) -> Folded:
    """The head's probabilities on each fold's held-out images, fitted on the fold's training images. With
    `tiles` (each row's image), x holds tiles: the folds split images, never an image's tiles. With `end`
    (time.perf_counter()), each fit of a growing head gets an equal share of the time left, counting a
    final fit on every image after the folds."""
    table, folded = FeatureTable(x, tiles), Folded([])
    for done, (train, val) in enumerate(fold_list):
        fit_rows, val_rows = table.image_rows(np.asarray(train)), table.image_rows(np.asarray(val))
        fits_left = len(fold_list) - done + 1
        deadline = None if end is None else time.perf_counter() + (end - time.perf_counter()) / fits_left
        model = heads.fit(head, x[fit_rows], table.row_targets(y, fit_rows), seed, threads, balanced=balanced,
                          deadline=deadline, stop=stop)
        size = heads.fitted_size(model)
        if size is not None:
            folded.size = size if folded.size is None else min(folded.size, size)
        found = heads.all_classes(model, model.predict_proba(x[val_rows]), classes)
        folded.probabilities.append(table.per_image(found, val_rows, np.asarray(val)))
    return folded


def fold_scores(y: np.ndarray, fold_list, probabilities: list[np.ndarray], labels: list[str]
                ) -> dict[str, list[float]]:
    """Every metric on each fold's held-out part."""
    scores: dict[str, list[float]] = {metric: [] for metric in METRICS}
    for (_, val), fold in zip(fold_list, probabilities):
        measured = measures.compute(y[val], fold, labels, 2)
        for metric in METRICS:
            scores[metric].append(float(getattr(measured, metric)))
    return scores


def validation(fold_list, y: np.ndarray, names: list[str]) -> dict:
    """How the candidates were validated, as the run reads it: folds, and how often each image was held out."""
    validated = np.bincount(np.concatenate([val for _, val in fold_list]), minlength=len(y))
    return {"folds": len(fold_list), "images": len(y), "validated": validated.tolist(), "names": names}


def _card_data(card: ModelCard) -> dict:
    """The card as YAML data: defaults left out, the feature set's parameters all written."""
    return {**card.model_dump(mode="json", exclude_defaults=True), "tags": ["classical"],
            "features": card.features.model_dump(mode="json")}
