"""Each model runs in its own process (a model session), as in tiktorch.

Why: frameworks do not always coexist in one process (TensorFlow imported before torchvision
crashes it with a segfault here), a crashing or memory-hungry model must not take the server
down, and the server process never imports torch or TensorFlow at all.

A forward pass travels in place through one shared-memory block per session (ring.py): the parent
writes the batch into it and sends one byte on the pipe, the child writes the answer over it and
replies with one byte; nothing is pickled on that path. Everything else is a pickled message on the
same pipe: ("load",) -> ("ok", (note, device)), ("gradcam", batch, class_index) -> ("ok", maps),
and any failure -> ("error", kind, message). The child runs untrusted code, so the parent unpickles
its replies with an allow-list of numpy's array builders (read_reply). One request is in flight per
session at a time.
"""
from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bioclass.errors import BioclassError, FailedPrecondition, Unavailable
from bioclass.server import sandbox
from bioclass.server.ring import ANSWER, FIRST_SIZE, LONE, REQUEST, HopTimes, Ring

_CONTEXT = multiprocessing.get_context("spawn")
MAX_REPLY_BYTES = 64 * 2**20  # errors, load notes and Grad-CAM maps; forward answers travel in the ring


class SessionCrashed(Unavailable):
    """The model's process died; the next call starts a new one."""


class ModelSession:
    """Parent-side handle of one model process. Calls block: run them in a worker thread."""

    def __init__(self, folder: Path, threads: int, onnx_spinning: str = "off", load_timeout_s: float = 600.0):
        sandbox.warn_if_unsupported()
        self._conn, child = _CONTEXT.Pipe()
        self.scratch = tempfile.mkdtemp(prefix=f"bioclass-model-{folder.name}-")  # the child's only writable folder
        self._ring = Ring.create(FIRST_SIZE)  # the child opens it by name before it confines itself
        self._ring_moved = False  # a larger block replaced it: the next request names it
        self.hop: HopTimes | None = None  # the last forward pass's legs
        self.process = _CONTEXT.Process(target=_session_main, daemon=True, name=f"bioclass-model-{folder.name}",
                                        args=(child, str(folder), threads, onnx_spinning, self._ring.name,
                                              _Confinement(self.scratch, sandbox.LIMITS, os.getpid())))
        try:
            self.process.start()
            child.close()
            # e.g. how serve_as went; the device it runs on, and why auto fell back to the CPU
            self.load_note, self.device = self._request(("load",), timeout=load_timeout_s)
        except BaseException:
            self.close()
            raise

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.forward_parts([batch])

    def forward_parts(self, parts: list[np.ndarray], alone: bool = False) -> np.ndarray:
        """One forward pass over the parts stacked along the batch axis (copied once, straight to the child);
        `alone`: the model's only request in flight."""
        try:
            sent = self._send_forward(parts, alone)
            reply = self._receive()
        except (EOFError, OSError):
            raise SessionCrashed(self._crash_reason()) from None
        return self._forward_answer(reply, sent)

    async def forward_parts_async(self, parts: list[np.ndarray], alone: bool = False) -> np.ndarray:
        """forward_parts without a thread: the event loop waits for the child's answer on the pipe
        (two thread hand-offs fewer per batch)."""
        loop = asyncio.get_running_loop()
        answered = loop.create_future()
        descriptor = self._conn.fileno()
        try:
            sent = self._send_forward(parts, alone)
            loop.add_reader(descriptor, lambda: answered.done() or answered.set_result(None))
            try:
                await answered
            finally:
                loop.remove_reader(descriptor)
            reply = self._receive()
        except (EOFError, OSError):
            raise SessionCrashed(self._crash_reason()) from None
        return self._forward_answer(reply, sent)

    def _send_forward(self, parts: list[np.ndarray], alone: bool) -> float:
        """Write the batch into the ring and wake the child; when the request left (perf_counter)."""
        nbytes = sum(part.nbytes for part in parts)
        if not self._ring.fits(nbytes):
            grown = Ring.create(max(nbytes, 2 * self._ring.capacity))
            self._ring.close(unlink=True)  # the child's mapping of it lasts until it opens the new one
            self._ring, self._ring_moved = grown, True
        self._ring.write_parts(parts)
        wake = LONE if alone else REQUEST
        message = wake + self._ring.name.encode() if self._ring_moved else wake
        sent = time.perf_counter()
        self._conn.send_bytes(message)
        self._ring_moved = False
        return sent

    def _forward_answer(self, reply: bytes, sent: float) -> np.ndarray:
        if reply != ANSWER:  # an error, or an answer the ring cannot hold
            return self._answer(self._read_reply(reply))
        try:
            output, self.hop = self._ring.answer(sent)
        except ValueError as exc:
            raise BioclassError(str(exc)) from None
        return output

    def gradcam(self, batch: np.ndarray, class_index: int) -> np.ndarray:
        """Grad-CAM maps (B, h, w) at the last convolution's resolution (see bioclass.server.explain)."""
        return self._request(("gradcam", batch, class_index))

    def _request(self, message: tuple, timeout: float | None = None):
        try:
            self._conn.send(message)
            if timeout is not None and not self._conn.poll(timeout):
                self.close()
                raise FailedPrecondition(f"loading took more than {timeout:g} s (the server's model_load_timeout_s)")
            reply = self._read_reply(self._receive())
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise SessionCrashed(self._crash_reason()) from None
        return self._answer(reply)

    def _receive(self) -> bytes:
        """The child's next message, at most MAX_REPLY_BYTES: a model process (untrusted code) could
        otherwise make the server hold a reply of any size. One that tries is stopped."""
        try:
            return self._conn.recv_bytes(MAX_REPLY_BYTES)
        except OSError as exc:
            if exc.args != ("bad message length",):  # multiprocessing's words for a reply over maxlength
                raise  # the process died: the caller reports how
            self.process.kill()
            raise SessionCrashed(f"the model's process sent a reply over {MAX_REPLY_BYTES // 2**20} MiB and was "
                                 "stopped; the next call restarts it") from None

    def _read_reply(self, raw: bytes):
        """A pickled reply, which may build numpy arrays and nothing else: the model process runs untrusted
        code, and a reply naming any other callable would run it in the server. Such a process is stopped."""
        try:
            return read_reply(raw)
        except pickle.UnpicklingError as exc:
            self.process.kill()
            raise SessionCrashed(f"the model's process was stopped: {exc}; the next call restarts it") from None

    @staticmethod
    def _answer(reply: tuple):
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
        if self._conn.closed:
            return  # closed already (a load that timed out closes its session before it fails)
        try:
            self._conn.send(("stop",))
        except OSError:
            pass
        if self.process.pid is not None:  # started
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(timeout=2)
        self._conn.close()
        self._ring.close(unlink=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


# What numpy's arrays, scalars and dtypes pickle to with protocols 4 and 5 (Connection.send uses 4), numpy 1 and 2
_REPLY_GLOBALS = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
                  for name in ("_reconstruct", "scalar")} | {
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _REPLY_GLOBALS:
            raise pickle.UnpicklingError(f"its reply names {module}.{name}")
        return super().find_class(module, name)


def read_reply(raw: bytes):
    """Unpickle a model process's reply: tuples, strings, numbers and numpy arrays only."""
    return _ReplyUnpickler(io.BytesIO(raw)).load()


def _status(name: str):
    import grpc

    return getattr(grpc.StatusCode, name, grpc.StatusCode.INTERNAL)


# ---- child process ---------------------------------------------------------------------

class _Confinement(NamedTuple):
    scratch: str
    limits: sandbox.Limits
    parent_pid: int

    def apply(self, folder: str) -> None:
        """Confine this process (sandbox.py) before it reads the model: its folder read-only, scratch read-write."""
        sandbox.scratch_env(Path(self.scratch))
        view = sandbox.View({folder: sandbox.READ_ONLY, self.scratch: sandbox.EVERYTHING})
        sandbox.confine(view, self.limits, self.parent_pid, self.limits.memory_mb)


def _session_main(conn: Connection, folder: str, threads: int, onnx_spinning: str, ring_name: str,
                  confinement: _Confinement) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when sessions stop
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    ring = Ring.open(ring_name)
    confinement.apply(folder)
    model = None
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the server went away
        received = time.perf_counter()
        try:
            sandbox.allow_cpu_seconds(confinement.limits.cpu_seconds)
            if raw[:1] in (REQUEST, LONE):
                ring = _moved(ring, raw[1:])
                _forward_in_place(conn, model, ring, received, raw[:1] == LONE)
                continue
            message = pickle.loads(raw)
            if message[0] == "stop":
                conn.close()
                # Nothing is left to flush: skip the interpreter's shutdown, which for torch or TensorFlow
                # takes seconds, so that an unloaded model frees its memory at once.
                os._exit(0)
            if message[0] == "load":
                model, note = _load(Path(folder), threads, onnx_spinning)
                conn.send(("ok", (note, device_of(model))))
            elif message[0] == "gradcam":
                conn.send(("ok", gradcam_of(model, *message[1:])))
        except BioclassError as exc:
            conn.send(("error", exc.code.name, exc.message))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a failed call
            conn.send(("error", "FAILED_PRECONDITION" if model is None else "INTERNAL", _one_line(exc)))


def _moved(ring: Ring, name: bytes) -> Ring:
    """The parent's larger block when the request names one (the parent owns and unlinks blocks)."""
    if not name:
        return ring
    ring.close()
    return Ring.open(name.decode())


def _forward_in_place(conn: Connection, model, ring: Ring, received: float, alone: bool) -> None:
    if model is None:
        raise FailedPrecondition("the model is not loaded")
    begun = time.perf_counter()
    output = forward_of(model, ring.request(), alone)
    if ring.write_answer(output, received, begun):
        conn.send_bytes(ANSWER)
    else:
        conn.send(("ok", output))


def _one_line(exc: Exception) -> str:
    """The exception's first line; for TorchScript, whose first line only says that an operation failed
    (a traceback of the scripted code follows), its last line, which says why."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if len(lines) > 1 and lines[0].startswith("The following operation failed in the TorchScript interpreter"):
        return lines[-1]
    return f"{type(exc).__name__}: {lines[0]}"


def device_of(model) -> str:
    """What a loaded model runs on (a model served through ONNX Runtime: its ONNX session's device)."""
    served = getattr(model, "onnx_model", model)
    return getattr(served, "device", "cpu")


def forward_of(model, batch: np.ndarray, alone: bool) -> np.ndarray:
    """A forward pass; `alone` (the model's only request in flight) on the model's spinning threads, where it
    has some (ONNX with onnx_spinning `alone`)."""
    return model.forward_alone(batch) if alone and hasattr(model, "forward_alone") else model.forward(batch)


def gradcam_of(model, batch: np.ndarray, class_index: int) -> np.ndarray:
    if not hasattr(model, "gradcam"):
        raise FailedPrecondition("this model's framework or format has no Grad-CAM; use occlusion")
    return model.gradcam(batch, class_index)


def _load(folder: Path, threads: int, onnx_spinning: str):
    from bioclass.server.backends import get_backend
    from bioclass.server.cards import read_card

    card = read_card(folder)
    model = get_backend(card.framework).load(card, folder / card.weights, threads, onnx_spinning)
    if card.serving.serve_as == "onnx" and card.framework != "onnx":
        from bioclass.server.backends.convert import serve_as_onnx

        return serve_as_onnx(card, model, threads, onnx_spinning)
    return model, ""
