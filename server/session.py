"""Each model runs in its own process (a model session), as in tiktorch.

Why: frameworks do not always coexist in one process (TensorFlow imported before torchvision
crashes it with a segfault here), a crashing or memory-hungry model must not take the server
down, and the server process never imports torch or TensorFlow at all.

The parent talks to its child over a pipe: ("forward", batch) -> ("ok", outputs) or
("error", kind, message); ("gradcam", batch, class_index) -> ("ok", maps) likewise.
One request is in flight per session at a time.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import tempfile
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bioclass.errors import BioclassError, FailedPrecondition, Unavailable
from bioclass.server import sandbox

_CONTEXT = multiprocessing.get_context("spawn")
LOAD_TIMEOUT_S = 600.0
SHARED_MIN_BYTES = 64 * 1024  # smaller inputs are cheaper to pickle through the pipe


class SessionCrashed(Unavailable):
    """The model's process died; the next call starts a new one."""


class ModelSession:
    """Parent-side handle of one model process. Calls block: run them in a worker thread."""

    def __init__(self, folder: Path, threads: int, onnx_spinning: bool = False):
        sandbox.warn_if_unsupported()
        self._conn, child = _CONTEXT.Pipe()
        self.scratch = tempfile.mkdtemp(prefix=f"bioclass-model-{folder.name}-")  # the child's only writable folder
        self.process = _CONTEXT.Process(target=_session_main, daemon=True, name=f"bioclass-model-{folder.name}",
                                        args=(child, str(folder), threads, onnx_spinning,
                                              _Confinement(self.scratch, sandbox.LIMITS, os.getpid())))
        self.process.start()
        child.close()
        self._shared: shared_memory.SharedMemory | None = None
        # e.g. how serve_as went; the device it runs on, and why auto fell back to the CPU
        self.load_note, self.device = self._request(("load",), timeout=LOAD_TIMEOUT_S)

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.forward_parts([batch])

    def forward_parts(self, parts: list[np.ndarray]) -> np.ndarray:
        """One forward pass over the parts stacked along the batch axis (copied once, straight to the child)."""
        return self._request(self._forward_message(parts))

    async def forward_parts_async(self, parts: list[np.ndarray]) -> np.ndarray:
        """forward_parts without a thread: the event loop waits for the child's answer on the pipe
        (two thread hand-offs fewer per batch)."""
        message = self._forward_message(parts)
        loop = asyncio.get_running_loop()
        answered = loop.create_future()
        descriptor = self._conn.fileno()
        try:
            self._conn.send(message)
            loop.add_reader(descriptor, lambda: answered.done() or answered.set_result(None))
            try:
                await answered
            finally:
                loop.remove_reader(descriptor)
            reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise SessionCrashed(self._crash_reason()) from None
        return self._answer(reply)

    def _forward_message(self, parts: list[np.ndarray]) -> tuple:
        nbytes = sum(part.nbytes for part in parts)
        if nbytes < SHARED_MIN_BYTES:
            return ("forward", parts[0] if len(parts) == 1 else np.concatenate(parts))
        shape = (sum(len(part) for part in parts), *parts[0].shape[1:])
        block = self._shared_block(nbytes)
        batch = np.ndarray(shape, parts[0].dtype, buffer=block.buf)
        offset = 0
        for part in parts:
            batch[offset:offset + len(part)] = part
            offset += len(part)
        return ("forward_shared", block.name, shape, batch.dtype.str)

    def _shared_block(self, size: int) -> shared_memory.SharedMemory:
        """The input block, replaced by a larger one when a batch does not fit."""
        if self._shared is None or self._shared.size < size:
            grown = max(size, 2 * self._shared.size) if self._shared is not None else size
            self._release_shared()
            self._shared = shared_memory.SharedMemory(create=True, size=grown)
        return self._shared

    def _release_shared(self) -> None:
        if self._shared is not None:
            self._shared.close()
            self._shared.unlink()
            self._shared = None

    def gradcam(self, batch: np.ndarray, class_index: int) -> np.ndarray:
        """Grad-CAM maps (B, h, w) at the last convolution's resolution (see bioclass.server.explain)."""
        return self._request(("gradcam", batch, class_index))

    def _request(self, message: tuple, timeout: float | None = None):
        try:
            self._conn.send(message)
            if timeout is not None and not self._conn.poll(timeout):
                self.close()
                raise FailedPrecondition(f"loading took more than {timeout:.0f} s")
            reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise SessionCrashed(self._crash_reason()) from None
        return self._answer(reply)

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
        try:
            self._conn.send(("stop",))
        except (OSError, BrokenPipeError):
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)
        self._conn.close()
        self._release_shared()
        shutil.rmtree(self.scratch, ignore_errors=True)


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


def _session_main(conn: Connection, folder: str, threads: int, onnx_spinning: bool, confinement: _Confinement) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when sessions stop
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    confinement.apply(folder)
    model = None
    shared = _SharedInputs()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the server went away
        try:
            if message[0] == "stop":
                conn.close()
                # Nothing is left to flush: skip the interpreter's shutdown, which for torch or TensorFlow
                # takes seconds, so that an unloaded model frees its memory at once.
                os._exit(0)
            sandbox.allow_cpu_seconds(confinement.limits.cpu_seconds)
            if message[0] == "load":
                model, note = _load(Path(folder), threads, onnx_spinning)
                conn.send(("ok", (note, device_of(model))))
            elif message[0] == "forward":
                conn.send(("ok", model.forward(message[1])))
            elif message[0] == "forward_shared":
                conn.send(("ok", model.forward(shared.array(*message[1:]))))
            elif message[0] == "gradcam":
                conn.send(("ok", gradcam_of(model, *message[1:])))
        except BioclassError as exc:
            conn.send(("error", exc.code.name, exc.message))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a failed call
            conn.send(("error", "FAILED_PRECONDITION" if model is None else "INTERNAL", _one_line(exc)))


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


def gradcam_of(model, batch: np.ndarray, class_index: int) -> np.ndarray:
    if not hasattr(model, "gradcam"):
        raise FailedPrecondition("this model's framework or format has no Grad-CAM; use occlusion")
    return model.gradcam(batch, class_index)


class _SharedInputs:
    """The child's view of the parent's input block (attached once, re-attached when replaced)."""

    def __init__(self):
        self.block: shared_memory.SharedMemory | None = None

    def array(self, name: str, shape: tuple, dtype: str) -> np.ndarray:
        if self.block is None or self.block.name != name:
            if self.block is not None:
                try:
                    self.block.close()
                except BufferError:
                    pass  # a view of it is still alive somewhere; the mapping goes with the process
            # The parent owns the block and unlinks it (spawned children share its resource tracker).
            self.block = shared_memory.SharedMemory(name=name)
        return np.ndarray(shape, np.dtype(dtype), buffer=self.block.buf)


def _load(folder: Path, threads: int, onnx_spinning: bool):
    from bioclass.server.backends import get_backend
    from bioclass.server.cards import read_card

    card = read_card(folder)
    model = get_backend(card.framework).load(card, folder / card.weights, threads, onnx_spinning)
    if card.serving.serve_as == "onnx" and card.framework != "onnx":
        from bioclass.server.backends.convert import serve_as_onnx

        return serve_as_onnx(card, model, threads, onnx_spinning)
    return model, ""
