"""AutoML trials on the Ray cluster, several at once, spread over the nodes.

Each trial is a Ray actor on some node that runs the same training code as a local job process
(training/worker.py run_job) and reports with the same messages. The training scheduler follows
it as it follows a local process: the actor's outbox stands for the pipe, the actor for the
process. The AutoML search around it (Optuna study, budget, leaderboard stream) is unchanged.

A trial whose node is lost starts once more on another node; a second loss fails it with the
reason, and the search goes on with its other trials.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time

import ray

from bioclass.server.training.scheduler import RunningJob, Scheduler
from bioclass.server.training.store import CANCELLED, FAILED, RUNNING, JobRecord

log = logging.getLogger(__name__)
ATTEMPTS = 2  # a trial survives the loss of one node
POLL_S = 1.0


@ray.remote(max_concurrency=2)  # one thread trains, the other answers the server's polls
class TrialActor:
    def __init__(self):
        self.outbox: queue.Queue = queue.Queue()
        self.cancel = threading.Event()

    def where(self) -> tuple[str, int]:
        return ray.get_runtime_context().get_node_id(), os.getpid()

    def run(self, plan: dict) -> None:
        from bioclass.server.training.worker import run_job

        run_job(self, self.cancel, plan, os.getppid())  # the raylet: when it dies, so does the trial

    # The pipe end run_job writes to.
    def send(self, message: tuple) -> None:
        self.outbox.put(message)

    def close(self) -> None:
        pass

    def take(self, wait_s: float) -> list[tuple]:
        """The messages written so far, waiting up to wait_s for the first."""
        try:
            messages = [self.outbox.get(timeout=wait_s)]
        except queue.Empty:
            return []
        while not self.outbox.empty():
            messages.append(self.outbox.get_nowait())
        return messages

    def stop(self) -> None:
        self.cancel.set()


class RemoteTrial:
    """A trial actor seen as the scheduler sees a job process."""

    pid = 0
    exitcode = None

    def __init__(self, plan: dict, cpus: float, attempt: int):
        self.attempt = attempt
        self.actor = TrialActor.options(num_cpus=cpus, scheduling_strategy="SPREAD").remote()
        self.finished = self.actor.run.remote(plan)
        self.lost = False  # the actor died without our asking (its node went away)
        self.killed = False
        self._inbox: list[tuple] = []

    # process-like
    def join(self, timeout: float | None = None) -> None:
        ray.wait([self.finished], timeout=timeout)

    def is_alive(self) -> bool:
        return not ray.wait([self.finished], timeout=0)[0]

    def kill(self) -> None:
        self.killed = True
        ray.kill(self.actor)

    # pipe-like: blocks, so the scheduler calls it from a thread
    def recv(self) -> tuple:
        while not self._inbox:
            try:
                self._inbox = ray.get(self.actor.take.remote(POLL_S))
            except ray.exceptions.RayActorError:
                self.lost = not self.killed
                raise EOFError from None
            if not self._inbox and ray.wait([self.finished], timeout=0)[0]:
                raise EOFError  # run ended without a final message
        return self._inbox.pop(0)

    # cancel-event-like
    def set(self) -> None:
        self.actor.stop.remote()


class RayScheduler(Scheduler):
    """The training scheduler with its jobs on the cluster; `slots` trials run at once."""

    def __init__(self, *args, cpus: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.cpus = cpus

    async def _execute(self, job: JobRecord) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            trial = RemoteTrial(self.plans[job.id], self.cpus, attempt)
            running = RunningJob(trial, trial, trial)
            self.running[job.id] = running
            try:
                await self._follow_trial(job, running)
            finally:
                _kill_quietly(trial)  # a finished actor's process would otherwise idle on its node
            if not trial.lost or running.cancel_requested or attempt == ATTEMPTS:
                return
            line = f"the Ray node running attempt {attempt} was lost; the trial starts again on another node"
            log.warning("job %s: %s", job.id, line)
            self._update(job, log=[*job.log, line], lines=[line])

    async def _follow_trial(self, job: JobRecord, running: RunningJob) -> None:
        trial: RemoteTrial = running.process
        try:
            node, pid = await trial.actor.where.remote()
        except ray.exceptions.RayActorError:
            trial.lost = not trial.killed
            return self._died(job, running)  # it never started
        line = f"attempt {trial.attempt} runs on Ray node {node} (pid {pid})"
        log.info("job %s: %s", job.id, line)
        changes = {"started": time.time()} if trial.attempt == 1 else {}
        self._update(job, state=RUNNING, pid=pid, log=[*job.log, line], lines=[line],
                     result={**job.result, "node": node, "attempts": trial.attempt}, **changes)
        await self._follow(job, running)

    def _died(self, job: JobRecord, running: RunningJob) -> None:
        trial: RemoteTrial = running.process
        if running.cancel_requested:
            return self._finish(job, CANCELLED, error="cancelled by the user (the trial was stopped)")
        if trial.lost:
            if trial.attempt < ATTEMPTS:
                return  # _execute starts it again
            return self._finish(job, FAILED, error=f"the Ray node running the trial was lost ({ATTEMPTS} times)")
        self._finish(job, FAILED, error="the trial's Ray actor ended without a result")


def _kill_quietly(trial: RemoteTrial) -> None:
    try:
        ray.kill(trial.actor)
    except Exception:  # noqa: BLE001 - already gone with its node
        pass
