"""Semi-supervised training in the job's process: teachers, pseudo-labels, a student (ATLASS).

Modes: "data" (one teacher, test-time transforms), "model" (an ensemble of architectures, no
transforms), "model_data" (both), "*_iterative" (the student becomes a teacher and the
pseudo-labels are made again) and "topological" (two classes: persistence diagrams of the
teacher's features decide, see topology.py). The job's time limit is shared evenly between the trainings.
"""
from __future__ import annotations

import dataclasses
import math
import time

from bioclass.server.training import networks, pseudo, steps, topology
from bioclass.server.training.steps import Plan

ITERATIVE_ROUNDS = 2
# Model distillation's other teachers, the compact CNNs first: ImageNet networks trained from scratch
# on a few dozen labels stay near chance and would only dilute the averaged probabilities.
DEFAULT_ENSEMBLE = ("bioclass:small_cnn4", "bioclass:small_cnn3", "resnet10t")


def teacher_archs(config) -> list[str]:
    if "model" not in config.semi_supervised:
        return [config.arch]
    others = config.ensemble_archs or [a for a in DEFAULT_ENSEMBLE if a != config.arch][:2]
    return [config.arch, *others]


def run(plan: Plan, sets: dict, card, labels: list[str], unlabelled: list[str], reporter, base: dict) -> dict:
    config = plan.config
    deadline = time.perf_counter() + config.max_seconds if config.max_seconds else math.inf
    pool = pseudo.load_pool(plan.dataset_root, unlabelled, labels, card)
    if not len(pool.images):
        reporter.log("semi-supervised: no unlabelled images; training supervised only")
    archs = teacher_archs(config)
    rounds = ITERATIVE_ROUNDS if config.semi_supervised.endswith("_iterative") else 1
    trainings = len(archs) + (rounds if len(pool.images) else 0)
    teachers, history, source = [], [], ""
    for number, arch in enumerate(archs, start=1):
        reporter.log(f"semi-supervised: teacher {number}/{len(archs)} {arch}")
        loop, source = _fit(plan, arch, sets, card, labels, _share(deadline, trainings), reporter)
        trainings -= 1
        teachers.append(loop.network)
        history += loop.history
    loop, reports = _distil(plan, sets, card, labels, pool, teachers, rounds, deadline, trainings, reporter, history)
    return {**base, "history": history, "weights_source": source, "pseudo_labels": reports,
            **steps.finish(plan, loop, sets, card, labels, unlabelled, reporter)}


def _distil(plan, sets, card, labels, pool, teachers, rounds, deadline, trainings, reporter, history):
    """Each round: pseudo-label with the teachers, train a fresh student on labelled + pseudo-labelled."""
    config = plan.config
    transforms = list(pseudo.TRANSFORMS) if "data" in config.semi_supervised else ["identity"]
    loop, reports = None, []
    for round_number in range(1, rounds + 1 if len(pool.images) else 1):
        if config.semi_supervised == "topological":
            chosen, report = topology.select(teachers[0], pool, sets["train"], card, labels, config.pseudo_threshold,
                                             config.seed)
        else:
            probabilities = pseudo.averaged_softmax(teachers, pool, card, transforms)
            chosen, report = pseudo.select(probabilities, config.pseudo_threshold, labels, pool)
        report.update(round=round_number, teachers=len(teachers), transforms=len(transforms))
        reports.append(report)
        reporter.log(f"round {round_number}: pseudo-labelled {report['pseudo_labelled']} of {report['unlabelled']} "
                     f"{report['counts']}" + (f", accuracy {report['accuracy']:.3f} on {report['with_known_label']}"
                                               f" with known labels" if report["with_known_label"] else ""))
        student_sets = {**sets, "train": pseudo.extended(sets["train"], pool, chosen)}
        loop, _ = _fit(plan, config.arch, student_sets, card, labels, _share(deadline, trainings), reporter)
        trainings -= 1
        history += loop.history
        teachers = [loop.network, *teachers[1:]]  # the student replaces the first teacher
    if loop is None:  # nothing unlabelled: the (first) teacher is the model
        loop, _ = _fit(plan, config.arch, sets, card, labels, _share(deadline, 1), reporter)
    return loop, reports


def _share(deadline: float, trainings: int) -> float:
    """Seconds for the next training: what is left split evenly (0: no limit)."""
    if math.isinf(deadline):
        return 0.0
    return max(1.0, (deadline - time.perf_counter()) / max(1, trainings))


def _fit(plan: Plan, arch: str, sets: dict, card, labels: list[str], seconds: float, reporter):
    config = plan.config.model_copy(update={"arch": arch, "max_seconds": seconds})
    network, source = networks.build(arch, len(labels), config.pretrained, reporter.log)
    loop = steps.make_loop(dataclasses.replace(plan, config=config), network, sets, card, len(labels), reporter)
    steps.train(loop, config, bool(source), reporter)
    return loop, source

