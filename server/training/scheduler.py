"""Runs queued jobs, each in its own spawned process, a configurable number at a time.

The scheduler owns the job processes: it reads their reports, keeps the store up to date,
tells watchers about every change, and turns a process that died into a failed job. The server
process itself never imports torch.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bioclass.errors import BioclassError, FailedPrecondition
from bioclass.server import sandbox
from bioclass.server.training import worker
from bioclass.server.training.shared import Watchers
from bioclass.server.training.store import CANCELLED, FAILED, INTERRUPTED, RUNNING, SUCCEEDED, JobRecord, JobStore

log = logging.getLogger(__name__)
_CONTEXT = multiprocessing.get_context("spawn")
PERSIST_PROGRESS_S = 2.0


@dataclass
class RunningJob:
    process: multiprocessing.Process
    conn: object
    cancel: object
    cancel_requested: bool = False
    persisted: float = 0.0


@dataclass
class Scheduler:
    store: JobStore
    jobs_dir: Path
    slots: int
    # Called with the job and its result when the process succeeded; returns the served model id.
    on_success: Callable[[JobRecord, dict], Awaitable[str]]
    cancel_grace_s: float = 10.0  # a cancelled job's time to stop before it is killed (Settings.job_cancel_grace_s)
    plans: dict[str, dict] = field(default_factory=dict)
    pending: deque = field(default_factory=deque)
    running: dict[str, RunningJob] = field(default_factory=dict)
    watchers: Watchers = field(default_factory=Watchers)
    live: dict[str, JobRecord] = field(default_factory=dict)
    tasks: set[asyncio.Task] = field(default_factory=set)

    def submit(self, job: JobRecord, plan: dict) -> None:
        self.plans[job.id] = plan
        self.live[job.id] = job
        self.pending.append(job.id)
        self._start_ready()

    def job(self, job_id: str) -> JobRecord:
        """The freshest record: in memory while the job is live (progress is persisted less often)."""
        return self.live.get(job_id) or self.store.get(job_id)

    # ---- running -----------------------------------------------------------------------------

    def _start_ready(self) -> None:
        while self.pending and len(self.running) < self.slots:
            job_id = self.pending.popleft()
            task = asyncio.get_running_loop().create_task(self._run(job_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _run(self, job_id: str) -> None:
        job = self.live[job_id]
        try:
            await self._execute(job)
        except Exception as exc:  # noqa: BLE001 - a scheduler bug must fail the job, not stall the queue
            log.exception("job %s", job_id)
            self._finish(job, FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self.running.pop(job_id, None)
            self.plans.pop(job_id, None)
            self.live.pop(job_id, None)
            self._start_ready()

    async def _execute(self, job: JobRecord) -> None:
        """Run the job to its end (server/ray/trials.py runs it on a cluster instead)."""
        scratch = tempfile.mkdtemp(prefix=f"bioclass-job-{job.id}-")  # the sandboxed job's temporary files
        try:
            running = self._spawn(job, scratch)
            await self._follow(job, running)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _spawn(self, job: JobRecord, scratch: str) -> RunningJob:
        parent_conn, child_conn = _CONTEXT.Pipe(duplex=False)
        cancel = _CONTEXT.Event()
        sandbox.warn_if_unsupported()
        process = _CONTEXT.Process(target=worker.job_main, daemon=True, name=f"bioclass-job-{job.id}",
                                   args=(child_conn, cancel, self.plans[job.id], os.getpid(), scratch, sandbox.LIMITS))
        process.start()
        child_conn.close()
        running = RunningJob(process, parent_conn, cancel)
        self.running[job.id] = running
        self._update(job, state=RUNNING, started=time.time(), pid=process.pid)
        return running

    async def _follow(self, job: JobRecord, running: RunningJob) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await loop.run_in_executor(None, _receive, running.conn)
            if message is None:
                await loop.run_in_executor(None, running.process.join, 5)  # the exit code says why
                return self._died(job, running)
            if await self._handle(job, running, message):
                return

    async def _handle(self, job: JobRecord, running: RunningJob, message: tuple) -> bool:
        """Apply one message of the job's (worker.py lists them); True for its last."""
        kind = message[0]
        if kind == "log":
            self._update(job, log=[*job.log, message[1]], lines=[message[1]])
        elif kind == "progress":
            self._progress(job, running, message[1])
        elif kind == "epoch":
            history = [*job.result.get("history", []), message[1]]
            self._update(job, result={**job.result, "history": history})
        else:
            await self._conclude(job, running, message)
            return True
        return False

    def _progress(self, job: JobRecord, running: RunningJob, progress: dict) -> None:
        job.progress = progress
        if time.monotonic() - running.persisted >= PERSIST_PROGRESS_S:
            running.persisted = time.monotonic()
            self.store.update(job, progress=progress)
        self._publish(job, [])

    async def _conclude(self, job: JobRecord, running: RunningJob, message: tuple) -> None:
        await asyncio.get_running_loop().run_in_executor(None, running.process.join, 30)
        if message[0] == "cancelled":
            return self._finish(job, CANCELLED, error="cancelled by the user")
        if message[0] == "error":
            return self._finish(job, FAILED, error=message[1])
        result = message[1]
        try:
            model_id = await self.on_success(job, result)
        except BioclassError as exc:
            return self._finish(job, FAILED, error=f"training finished but the model cannot be served: {exc}",
                                result={**job.result, **result})
        self._finish(job, SUCCEEDED, model_id=model_id, result={**job.result, **result})

    def _died(self, job: JobRecord, running: RunningJob) -> None:
        code = running.process.exitcode
        if running.cancel_requested:
            return self._finish(job, CANCELLED, error="cancelled by the user (the process was stopped)")
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if name == "SIGKILL" else ""
            why = f"the job's process was killed by signal {name}{hint}"
        else:
            why = f"the job's process exited with status {code} without a result"
        self._finish(job, FAILED, error=why)

    def _finish(self, job: JobRecord, state: str, **changes) -> None:
        self._update(job, state=state, finished=time.time(), pid=0, progress=job.progress, **changes)
        log.info("job %s %s%s", job.id, state, f": {changes['error']}" if changes.get("error") else "")

    # ---- cancellation and watching ------------------------------------------------------------

    def cancel(self, job_id: str) -> JobRecord:
        job = self.job(job_id)
        if job.done:
            raise FailedPrecondition(f"job {job_id} has already finished ({job.state})")
        if job_id in self.pending:
            self.pending.remove(job_id)
            self._finish(job, CANCELLED, error="cancelled by the user before it started")
            self.live.pop(job_id, None)
            self.plans.pop(job_id, None)
            return job
        running = self.running.get(job_id)
        if running is not None and not running.cancel_requested:
            running.cancel_requested = True
            running.cancel.set()  # the job stops at its next batch
            asyncio.get_running_loop().call_later(self.cancel_grace_s, _kill_if_alive, running.process)
        return job

    @contextlib.contextmanager
    def group(self, name: str, folder: Path):
        """Jobs submitted inside with plan["group"] = name belong together: one Ray Tune experiment
        on a cluster (server/ray/trials.py), writing under folder; local processes need nothing."""
        yield

    def subscribe(self, job_id: str) -> asyncio.Queue:
        return self.watchers.subscribe(job_id)

    def unsubscribe(self, job_id: str, queue: asyncio.Queue) -> None:
        self.watchers.unsubscribe(job_id, queue)

    def _update(self, job: JobRecord, lines: list[str] | None = None, **changes) -> None:
        self.store.update(job, **changes)
        self._publish(job, lines or [])

    def _publish(self, job: JobRecord, lines: list[str]) -> None:
        self.watchers.publish(job.id, (job, lines))

    def close(self) -> None:
        """Stop every job process; their jobs become interrupted."""
        for job_id, running in list(self.running.items()):
            _kill_if_alive(running.process)
            job = self.live.get(job_id)
            if job is not None:
                self.store.update(job, state=INTERRUPTED, finished=time.time(), pid=0,
                                  error="the server stopped before the job finished")
        for job_id in self.pending:
            if job_id in self.live:
                self.store.update(self.live[job_id], state=INTERRUPTED, finished=time.time(),
                                  error="the server stopped before the job started")


def _receive(conn):
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def _kill_if_alive(process: multiprocessing.Process) -> None:
    if process.is_alive():
        process.kill()

