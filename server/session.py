"""Each model runs in its own process (a model session), as in tiktorch.

Why: frameworks do not always coexist in one process (TensorFlow imported before torchvision
crashes it with a segfault here), a crashing or memory-hungry model must not take the server
down, and the server process never imports torch or TensorFlow at all.

The parent talks to its child over a pipe: ("forward", batch) -> ("ok", outputs) or
("error", kind, message). One request is in flight per session at a time.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from bioclass.errors import BioclassError, FailedPrecondition, Unavailable

_CONTEXT = multiprocessing.get_context("spawn")
LOAD_TIMEOUT_S = 600.0


class SessionCrashed(Unavailable):
    """The model's process died; the next call starts a new one."""


class ModelSession:
    """Parent-side handle of one model process. Calls block: run them in a worker thread."""

    def __init__(self, folder: Path, threads: int):
        self._conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_session_main, args=(child, str(folder), threads),
                                        daemon=True, name=f"bioclass-model-{folder.name}")
        self.process.start()
        child.close()
        self._request(("load",), timeout=LOAD_TIMEOUT_S)

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self._request(("forward", batch))

    def _request(self, message: tuple, timeout: float | None = None):
        try:
            self._conn.send(message)
            if timeout is not None and not self._conn.poll(timeout):
                self.close()
                raise FailedPrecondition(f"loading took more than {timeout:.0f} s")
            reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise SessionCrashed(self._crash_reason()) from None
        if reply[0] == "ok":
            return reply[1]
        _, code, text = reply
        raise BioclassError(text, _status(code))

    def _crash_reason(self) -> str:
        self.process.join(timeout=2)
        code = self.process.exitcode
        if code is not None and code < 0:
            how = f"was killed by signal {signal.Signals(-code).name}"
        else:
            how = f"exited with status {code}"
        return f"the model's process {how}; the next call restarts it"

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        try:
            self._conn.send(("stop",))
        except (OSError, BrokenPipeError):
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)
        self._conn.close()


def _status(name: str):
    import grpc

    return getattr(grpc.StatusCode, name, grpc.StatusCode.INTERNAL)


# ---- child process ---------------------------------------------------------------------

def _session_main(conn: Connection, folder: str, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when sessions stop
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    model = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the server went away
        try:
            if message[0] == "stop":
                return
            if message[0] == "load":
                model = _load(Path(folder), threads)
                conn.send(("ok", None))
            elif message[0] == "forward":
                conn.send(("ok", model.forward(message[1])))
        except BioclassError as exc:
            conn.send(("error", exc.code.name, exc.message))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a failed call
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            conn.send(("error", "FAILED_PRECONDITION" if model is None else "INTERNAL",
                       f"{type(exc).__name__}: {first_line}"))


def _load(folder: Path, threads: int):
    from bioclass.server.backends import get_backend
    from bioclass.server.cards import read_card

    card = read_card(folder)
    return get_backend(card.framework).load(card, folder / card.weights, threads)
