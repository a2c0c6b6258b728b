"""The job process: runs one job and reports to the server over a pipe.

Messages to the server: ("log", line), ("progress", dict), ("epoch", record), then exactly one of
("done", result), ("cancelled",) or ("error", message). If the process dies without one of those
(a crash, out-of-memory, kill -9), the server sees the pipe close and fails the job.
"""
from __future__ import annotations

import os
import signal
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

PROGRESS_INTERVAL_S = 0.5


class Cancelled(Exception):
    """The user cancelled the job (here, not in recipe.py: a job that trains no network never imports torch)."""


class Reporter:
    def __init__(self, conn: Connection, cancel, parent_pid: int):
        self.conn, self.cancel, self.parent_pid = conn, cancel, parent_pid
        self._last_progress = 0.0

    def log(self, line: str) -> None:
        self.conn.send(("log", line))

    def progress(self, stage: str, epoch: int = 0, epochs: int = 0, step: int = 0, steps: int = 0,
                 loss: float = 0.0, eta: float = 0.0, rate: float = 0.0) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and step != steps:
            return  # the pipe carries a few updates a second, not one per batch
        self._last_progress = now
        self.conn.send(("progress", {"stage": stage, "epoch": epoch, "epochs": epochs, "step": step,
                                     "steps": steps, "loss": loss, "eta_seconds": eta, "images_per_second": rate}))

    def epoch(self, record: dict, epochs: int) -> None:
        self.conn.send(("epoch", record))
        self.log(f"{record['stage']} epoch {record['epoch']}/{epochs}: train loss {record['train_loss']:.4f}, "
                 f"val loss {record['val_loss']:.4f}, val accuracy {record['val_accuracy']:.3f}, "
                 f"{record['seconds']:.1f} s")

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()
        if os.getppid() != self.parent_pid:
            os._exit(1)  # the server is gone: nobody would receive the result


def job_main(conn: Connection, cancel, plan_values: dict, parent_pid: int, scratch: str, limits) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when jobs stop
    plan_values = with_weights_fetched(plan_values, Reporter(conn, cancel, parent_pid))
    confine(plan_values, scratch, limits, parent_pid)
    run_job(conn, cancel, plan_values, parent_pid)


def with_weights_fetched(plan_values: dict, reporter) -> dict:
    """The plan with "auto" pretrained weights resolved while the job may still reach the hub: downloaded
    into the cache (progress in the job's log) and named by path, or "none" with the reason."""
    from bioclass.server.classical.spec import FROZEN_PREFIX, JOB_ARCH

    config = plan_values["config"]
    if config.get("pretrained", "auto") != "auto" or config["arch"] == JOB_ARCH:
        return plan_values
    from bioclass.server.training import networks

    if config["arch"].startswith(FROZEN_PREFIX):  # no weights, no candidate: the job says why in one line
        reasons: list[str] = []

        def log(line: str) -> None:
            reasons.append(line)
            reporter.log(line)

        found = networks.prefetch(config["arch"].removeprefix(FROZEN_PREFIX), log, "")
        return {**plan_values, "config": {**config, "pretrained": found}, "no_weights": reasons[-1] if reasons else ""}
    return {**plan_values, "config": {**config, "pretrained": networks.prefetch(config["arch"], reporter.log)}}


def confine(plan_values: dict, scratch: str, limits, parent_pid: int) -> None:
    """The job's sandbox (server/sandbox.py): its dataset, its pretrained weights and the weight caches
    read-only; its job folder and scratch read-write. A trial of an AutoML run is a job too."""
    from bioclass.server import sandbox

    sandbox.scratch_env(Path(scratch))
    job_dir = Path(plan_values["job_dir"])
    job_dir.mkdir(parents=True, exist_ok=True)
    paths = {path: sandbox.READ_ONLY for path in (plan_values["dataset_root"], *_weight_caches())}
    pretrained = plan_values["config"].get("pretrained", "auto")
    if pretrained not in ("auto", "none"):
        paths[pretrained] = sandbox.READ_ONLY
    paths.update({str(job_dir): sandbox.EVERYTHING, scratch: sandbox.EVERYTHING})
    sandbox.confine(sandbox.View(paths), limits, parent_pid, limits.job_memory_mb)


def _weight_caches() -> list[str]:
    """Where networks.py looks for pretrained weights: torch hub's and Hugging Face's caches."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return [os.environ.get("TORCH_HOME", str(cache / "torch")),
            os.environ.get("HF_HUB_CACHE", os.environ.get("HF_HOME", str(cache / "huggingface")))]


def run_job(conn, cancel, plan_values: dict, parent_pid: int) -> None:
    """Run one job, reporting to `conn` (anything with send and close: a pipe, or a Ray trial's outbox)."""
    reporter = Reporter(conn, cancel, parent_pid)
    try:
        try:
            result = _run(plan_values, reporter)
        except Cancelled:
            conn.send(("cancelled",))
            return
        conn.send(("done", result))
    except Exception as exc:  # noqa: BLE001 - every failure is reported as the job's error
        reporter.log(traceback.format_exc().rstrip().splitlines()[-1])
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        conn.send(("error", message))
    finally:
        conn.close()


def _run(plan_values: dict, reporter) -> dict:
    """A network's training job, or one of AutoML's: the classical candidates (bioclass.server.classical.train),
    frozen deep features (classical/frozen.py), a finalist's cross-validation (training/crossval.py)."""
    from bioclass.server.classical.spec import FROZEN_PREFIX, JOB_ARCH

    if plan_values["config"]["arch"] == JOB_ARCH:
        from bioclass.server.classical import train as classical

        return classical.run(classical.plan_from(plan_values), reporter)
    if plan_values["config"]["arch"].startswith(FROZEN_PREFIX):
        from bioclass.server.classical import frozen

        return frozen.run(frozen.plan_from(plan_values), reporter)
    plan = _plan(plan_values)
    if plan.config.cross_validate:
        from bioclass.server.training import crossval

        return crossval.run(plan, reporter)
    from bioclass.server.training import job

    result = job.run(plan, reporter)
    job.write_plots(plan.job_dir, result)
    return result


def _plan(values: dict):
    from bioclass.server.training.config import Plan

    return Plan.from_values(values)
