"""Job history in SQLite in the work folder: survives restarts; each write is one transaction.

A row holds the request and, as JSON, whatever the job produced (progress, history, metrics).
Jobs that were queued or running when the server stopped are marked interrupted on start.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bioclass.errors import NotFound

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINISHED = {SUCCEEDED, FAILED, CANCELLED, INTERRUPTED}
LOG_LINES_KEPT = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    request TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL NOT NULL DEFAULT 0,
    finished REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    model_id TEXT NOT NULL DEFAULT '',
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT NOT NULL DEFAULT '{}',
    log TEXT NOT NULL DEFAULT '[]',
    pid INTEGER NOT NULL DEFAULT 0
)"""


@dataclass
class JobRecord:
    id: str
    state: str
    request: dict
    created: float
    started: float = 0.0
    finished: float = 0.0
    error: str = ""
    model_id: str = ""
    progress: dict = field(default_factory=dict)
    result: dict = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    pid: int = 0

    @property
    def done(self) -> bool:
        return self.state in FINISHED


_JSON_COLUMNS = ("request", "progress", "result", "log")


class JobStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection, used from the event loop thread only; autocommit off, one commit per write.
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def create(self, request: dict) -> JobRecord:
        job = JobRecord(id=uuid.uuid4().hex[:12], state=QUEUED, request=request, created=time.time())
        self._write("INSERT INTO jobs (id, state, request, created) VALUES (?, ?, ?, ?)",
                    (job.id, job.state, json.dumps(request), job.created))
        return job

    def update(self, job: JobRecord, **changes) -> JobRecord:
        for name, value in changes.items():
            setattr(job, name, value)
        job.log = job.log[-LOG_LINES_KEPT:]
        columns = ", ".join(f"{name} = ?" for name in changes)
        values = [json.dumps(getattr(job, n)) if n in _JSON_COLUMNS else getattr(job, n) for n in changes]
        self._write(f"UPDATE jobs SET {columns} WHERE id = ?", (*values, job.id))
        return job

    def get(self, job_id: str) -> JobRecord:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"unknown job {job_id!r}")
        return self._record(row)

    def all(self) -> list[JobRecord]:
        return [self._record(row) for row in self._db.execute("SELECT * FROM jobs ORDER BY created DESC")]

    def interrupt_unfinished(self) -> int:
        """Mark jobs left queued or running by a previous server as interrupted."""
        cursor = self._write("UPDATE jobs SET state = ?, finished = ?, pid = 0, "
                             "error = 'the server stopped before the job finished' WHERE state IN (?, ?)",
                             (INTERRUPTED, time.time(), QUEUED, RUNNING))
        return cursor.rowcount

    def _write(self, sql: str, values: tuple) -> sqlite3.Cursor:
        with self._db:  # one transaction: committed, or rolled back on error
            return self._db.execute(sql, values)

    def _record(self, row: sqlite3.Row) -> JobRecord:
        values = dict(row)
        for name in _JSON_COLUMNS:
            values[name] = json.loads(values[name])
        return JobRecord(**values)

    def close(self) -> None:
        self._db.close()
