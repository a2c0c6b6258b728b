"""AutoML trials as Ray Tune trials on the cluster, several at once, spread over the nodes.

Each AutoML run's search is one Tune experiment: a Tuner running in a thread of the server, its
results under work_dir/automl/<run>/tune/. The run's Optuna study stays the search: the AutoML
service asks it for a trial and submits the trial's training job as on one machine, and the
experiment's Searcher hands that job to Tune as its next trial. The trainable runs the same
training code as a local job process (training/worker.py run_job) on the node Tune placed it on and
sends the same messages, as Tune results; a Tune Callback passes them to the training scheduler,
which follows the trial as it follows a local process. So pruning, the budget and the live
leaderboard are the local path's. A trial the server stops (pruned, out of time, cancelled) is
stopped by the experiment's TrialScheduler, running or still waiting for a node.

Tune's FailureConfig(max_failures=1) starts a trial whose node is lost once more, from scratch, on
a node with room; a second loss fails it with the reason, and the search goes on with its other
trials. At most settings.ray_trials trials run at once (TuneConfig.max_concurrent_trials).

Tune pickles its Searcher, TrialScheduler and Callbacks with the experiment's state, so they hold
only the experiment's key; the live state (queues, events) stays in _EXPERIMENTS. The Optuna study
in SQLite is the run's memory: a restarted server starts a new Tune experiment, not Tune's resume.
"""
from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from pathlib import Path

import ray
from ray import tune
from ray.tune.logger import JsonLoggerCallback
from ray.tune.schedulers import FIFOScheduler
from ray.tune.search import Searcher

from bioclass.server.training.scheduler import RunningJob, Scheduler
from bioclass.server.training.store import CANCELLED, FAILED, RUNNING, JobRecord

log = logging.getLogger(__name__)
FLUSH_S = 1.0  # a trial's messages go to the server about once a second: each report is a round trip
# Tune runs in a thread of a server: no signal handlers, no tracebacks or progress tables in its log
# (the scheduler logs one line per lost node), no warnings while a retried trial waits for a node,
# and of its loggers only JSON (CSV and TensorBoard cannot hold a batch of messages).
QUIET_TUNE = {"TUNE_DISABLE_SIGINT_HANDLER": "1", "TUNE_PRINT_ALL_TRIAL_ERRORS": "0",
              "TUNE_WARN_INSUFFICENT_RESOURCE_THRESHOLD_S": "100000", "RAY_AIR_NEW_OUTPUT": "0",
              "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
_EXPERIMENTS: dict[str, TuneExperiment] = {}


# ---- on the node -------------------------------------------------------------------------------

def run_trial(config: dict) -> None:
    """The trainable: one training job; Tune stops it by ending its process."""
    from bioclass.server.training.worker import run_job

    outbox = Outbox()
    outbox.send(("where", ray.get_runtime_context().get_node_id(), os.getpid()))
    run_job(outbox, threading.Event(), config["plan"], os.getppid())  # the raylet: when it dies, so does the trial


class Outbox:
    """The pipe end run_job writes to: its messages become Tune results, batched."""

    def __init__(self):
        self.batch: list[tuple] = []
        self.sent = time.monotonic()

    def send(self, message: tuple) -> None:
        self.batch.append(message)
        if message[0] not in ("log", "progress") or time.monotonic() - self.sent >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            tune.report({"messages": self.batch})
            self.batch, self.sent = [], time.monotonic()

    def close(self) -> None:
        self.flush()


# ---- in the server -----------------------------------------------------------------------------

class TuneTrial:
    """A job's Tune trial seen as the training scheduler sees a job process: process, pipe and cancel event."""

    pid = 0
    exitcode = None

    def __init__(self, job_id: str, plan: dict):
        self.job_id, self.plan = job_id, plan
        self.inbox: queue.Queue = queue.Queue()  # filled by the Tuner's thread, read by the scheduler's
        self.ended = threading.Event()
        self.stop_requested = False
        self.error = ""

    def end(self, error: str = "") -> None:
        self.error = self.error or error
        self.inbox.put(None)
        self.ended.set()

    # process-like
    def join(self, timeout: float | None = None) -> None:
        self.ended.wait(timeout)

    def is_alive(self) -> bool:
        return not self.ended.is_set()

    def kill(self) -> None:
        self.stop_requested = True

    # pipe-like: blocks, so the scheduler calls it from a thread
    def recv(self) -> tuple:
        message = self.inbox.get()
        if message is None:
            raise EOFError
        return message

    # cancel-event-like
    def set(self) -> None:
        self.stop_requested = True


class TuneExperiment:
    """One AutoML run's trials: a Tuner in a thread, given the jobs the run submits."""

    def __init__(self, key: str, folder: Path, concurrency: int, cpus: float):
        self.key, self.folder, self.concurrency, self.cpus = key, folder, concurrency, cpus
        self.waiting: queue.Queue[TuneTrial] = queue.Queue()
        self.trials: dict[str, TuneTrial] = {}  # by Tune's trial id
        self.finished = False
        self.broken = ""
        self.thread = threading.Thread(target=self._fit, name=f"tune-{key}", daemon=True)

    def start(self) -> None:
        _EXPERIMENTS[self.key] = self
        self.thread.start()

    def add(self, job_id: str, plan: dict) -> TuneTrial:
        trial = TuneTrial(job_id, plan)
        if self.broken:
            trial.end(self.broken)
        else:
            self.waiting.put(trial)
        return trial

    def finish(self) -> None:
        """No more trials: Tune's experiment ends when its last trial has."""
        self.finished = True

    def stop(self) -> None:
        self.finish()
        for trial in [*list(self.trials.values()), *list(self.waiting.queue)]:
            trial.stop_requested = True

    def _fit(self) -> None:
        for name, value in QUIET_TUNE.items():
            os.environ.setdefault(name, value)
        try:
            self._tuner().fit()
        except Exception as exc:  # noqa: BLE001 - a broken experiment fails its trials, not the server
            log.exception("Tune experiment of AutoML run %s", self.key)
            self.broken = f"the Ray Tune experiment failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        finally:
            self.broken = self.broken or "the Ray Tune experiment ended"
            for trial in [*list(self.trials.values()), *list(self.waiting.queue)]:
                trial.end(self.broken)  # no-op for trials that ended: the scheduler stopped reading them
            _EXPERIMENTS.pop(self.key, None)

    def _tuner(self) -> tune.Tuner:
        return tune.Tuner(
            tune.with_resources(run_trial, {"cpu": self.cpus}),
            tune_config=tune.TuneConfig(search_alg=JobSearcher(self.key), scheduler=StopWhenAsked(self.key),
                                        num_samples=-1, max_concurrent_trials=self.concurrency),
            run_config=tune.RunConfig(name=time.strftime("search-%Y%m%d-%H%M%S"), storage_path=str(self.folder),
                                      failure_config=tune.FailureConfig(max_failures=1),
                                      callbacks=[ToScheduler(self.key), JsonLoggerCallback()], verbose=0))

    # ---- called by the Searcher, TrialScheduler and Callback, in the Tuner's thread ----

    def suggest(self, trial_id: str) -> dict | str | None:
        while True:
            try:
                trial = self.waiting.get_nowait()
            except queue.Empty:
                return Searcher.FINISHED if self.finished else None
            if trial.stop_requested:
                trial.end()  # stopped before Tune saw it
                continue
            self.trials[trial_id] = trial
            return {"job_id": trial.job_id, "plan": trial.plan}

    def stop_requested(self, trial_id: str) -> bool:
        trial = self.trials.get(trial_id)
        return trial is not None and trial.stop_requested

    def result(self, tune_trial, result: dict) -> None:
        trial = self.trials[tune_trial.trial_id]
        for message in result.get("messages", []):
            if message[0] == "where":
                message = ("attempt", {"node": message[1], "pid": message[2], "attempts": tune_trial.num_failures + 1,
                                       "tune_trial": tune_trial.trial_id, "tune_dir": tune_trial.path or ""})
            trial.inbox.put(message)

    def recovering(self, tune_trial) -> None:
        self.trials[tune_trial.trial_id].inbox.put(("lost", tune_trial.num_failures))

    def failed(self, tune_trial) -> None:
        self.trials.pop(tune_trial.trial_id).end(
            f"the Ray Tune trial {tune_trial.trial_id} failed {tune_trial.num_failures} times (its node was lost "
            f"or its process died); Tune's error file: {tune_trial.error_file}")

    def completed(self, tune_trial) -> None:
        self.trials.pop(tune_trial.trial_id).end()


class JobSearcher(Searcher):
    """Tune's searcher for a run: the next training job the run's Optuna study asked for."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        return True  # the study holds the space and the objective

    def suggest(self, trial_id: str) -> dict | str | None:
        experiment = _EXPERIMENTS.get(self.key)
        return experiment.suggest(trial_id) if experiment else Searcher.FINISHED

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        pass  # the service tells the study, from the job's final record

    def save_to_dir(self, checkpoint_dir: str, session_str: str = "default") -> None:
        pass  # nothing to save: the study in SQLite is the run's memory


class StopWhenAsked(FIFOScheduler):
    """Stops the trials the server stopped (pruned, out of time, cancelled), running or waiting for a node."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def choose_trial_to_run(self, tune_controller):
        experiment = _EXPERIMENTS.get(self.key)
        for trial in list(tune_controller.get_live_trials()):
            if experiment is not None and experiment.stop_requested(trial.trial_id):
                tune_controller.stop_trial(trial)
        return super().choose_trial_to_run(tune_controller)


class ToScheduler(tune.Callback):
    """Passes each trial's messages and its end to the training scheduler following it."""

    def __init__(self, key: str):
        self.key = key

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self._experiment().result(trial, result)

    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        self._experiment().recovering(trial)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._experiment().failed(trial)

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._experiment().completed(trial)

    def _experiment(self) -> TuneExperiment:
        return _EXPERIMENTS[self.key]


class RayScheduler(Scheduler):
    """The training scheduler with its jobs as Ray Tune trials; `slots` trials run at once."""

    def __init__(self, *args, cpus: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.cpus = cpus
        self.experiments: dict[str, TuneExperiment] = {}

    @contextlib.contextmanager
    def group(self, name: str, folder: Path):
        experiment = TuneExperiment(name, folder, self.slots, self.cpus)
        self.experiments[name] = experiment
        experiment.start()
        try:
            yield
        finally:
            self.experiments.pop(name).finish()

    async def _execute(self, job: JobRecord) -> None:
        plan = self.plans[job.id]
        trial = self.experiments[plan["group"]].add(job.id, plan)
        running = RunningJob(trial, trial, trial)
        self.running[job.id] = running
        await self._follow(job, running)

    async def _handle(self, job: JobRecord, running: RunningJob, message: tuple) -> bool:
        if message[0] == "attempt":
            self._attempt(job, message[1])
        elif message[0] == "lost":
            line = f"the Ray node running attempt {message[1]} was lost; Tune starts the trial again"
            log.warning("job %s: %s", job.id, line)
            self._update(job, log=[*job.log, line], lines=[line])
        else:
            return await super()._handle(job, running, message)
        return False

    def _attempt(self, job: JobRecord, where: dict) -> None:
        line = (f"attempt {where['attempts']} runs on Ray node {where['node']} "
                f"(Tune trial {where['tune_trial']}, pid {where['pid']})")
        log.info("job %s: %s", job.id, line)
        changes = {"started": time.time()} if where["attempts"] == 1 else {}
        self._update(job, state=RUNNING, pid=where["pid"], log=[*job.log, line], lines=[line],
                     result={**job.result, **where}, **changes)

    def _died(self, job: JobRecord, running: RunningJob) -> None:
        if running.cancel_requested:
            return self._finish(job, CANCELLED, error="cancelled by the user (the trial was stopped)")
        self._finish(job, FAILED, error=running.process.error or "the Ray Tune trial ended without a result")

    def close(self) -> None:
        for experiment in self.experiments.values():
            experiment.stop()
        super().close()
