"""The forward pass's request and answer, in place in one shared-memory block per model process.

The parent (session.py) writes a batch straight into the block and wakes the child with a one-byte
message on the session's pipe; the child runs the pass on a view of the block, writes the answer
over the input (the pass has finished reading it) and replies with one byte. Nothing is pickled and
the only copies are into and out of the block. The header says what the block holds (dtype, shape)
and when the child received the request and ran the pass (perf_counter, one clock for both
processes on Linux), so the parent can tell the hop's legs apart (`HopTimes`).

The parent creates the block before the child starts and passes its name as an argument; the child
opens it before it confines itself. A batch larger than the block gets a larger one (the old one is
unlinked once the child has opened the new one). The block's size is bounded by what a batch can
hold (limits.py and the queue bound every request), never by a number the child writes: the parent
checks an answer's header against the block before reading it.
"""
from __future__ import annotations

import math
import struct
import time
from multiprocessing import shared_memory
from typing import NamedTuple

import numpy as np

MAX_DIMS = 8
# dtype (numpy's str, e.g. "<f4"), number of axes, the axes, then the child's received / pass begun /
# pass ended times
_HEADER = struct.Struct(f"<8sI{MAX_DIMS}q3d")
DATA_OFFSET = 256  # the data starts here, aligned for any dtype
assert _HEADER.size <= DATA_OFFSET
FIRST_SIZE = 1024 * 1024  # one 224x224 RGB float32 image fits; a larger batch grows the block
# the pipe's wake-up messages (a pickled message never has one byte); LONE: a request that is the model's
# only one in flight (a card's onnx_spinning `alone` runs it on spinning threads)
REQUEST, LONE, ANSWER = b"F", b"L", b"A"


class HopTimes(NamedTuple):
    """One call's legs in milliseconds: parent's send -> child's receive, the pass, child's answer ->
    the parent's wake-up."""

    to_child_ms: float
    pass_ms: float
    to_parent_ms: float


class Ring:
    """One shared-memory block holding a request or its answer."""

    def __init__(self, block: shared_memory.SharedMemory):
        self.block = block

    @classmethod
    def create(cls, size: int) -> "Ring":
        return cls(shared_memory.SharedMemory(create=True, size=DATA_OFFSET + size))

    @classmethod
    def open(cls, name: str) -> "Ring":
        return cls(shared_memory.SharedMemory(name=name))

    @property
    def name(self) -> str:
        return self.block.name

    @property
    def capacity(self) -> int:
        return self.block.size - DATA_OFFSET

    def fits(self, nbytes: int) -> bool:
        return nbytes <= self.capacity

    def write_parts(self, parts: list[np.ndarray]) -> None:
        """The parts stacked along the batch axis, written in place (the caller checked `fits`)."""
        shape = (sum(len(part) for part in parts), *parts[0].shape[1:])
        batch = self._view(parts[0].dtype, shape)
        offset = 0
        for part in parts:
            batch[offset:offset + len(part)] = part
            offset += len(part)
        self._write_header(batch.dtype, shape)

    def write_answer(self, array: np.ndarray, received: float, begun: float) -> bool:
        """The child's answer in place; False when it cannot be described or does not fit."""
        array = np.asarray(array)
        if array.ndim > MAX_DIMS or array.dtype.hasobject or not self.fits(array.nbytes):
            return False
        self._view(array.dtype, array.shape)[...] = array
        self._write_header(array.dtype, array.shape, received, begun, time.perf_counter())
        return True

    def request(self) -> np.ndarray:
        """The child's view of the request (valid until it writes its answer)."""
        dtype, shape, _ = self._read_header()
        return self._view(dtype, shape)

    def answer(self, sent: float) -> tuple[np.ndarray, HopTimes]:
        """The parent's copy of the answer, and the call's legs (`sent`: when the request left)."""
        woken = time.perf_counter()
        dtype, shape, (received, begun, ended) = self._read_header()
        if min(shape, default=0) < 0 or math.prod(shape) * dtype.itemsize > self.capacity:
            raise ValueError(f"the model process describes an answer {list(shape)} {dtype} that its block cannot hold")
        hop = HopTimes(1000 * (received - sent), 1000 * (ended - begun), 1000 * (woken - ended))
        return self._view(dtype, shape).copy(), hop

    def _view(self, dtype, shape) -> np.ndarray:
        return np.ndarray(shape, dtype, buffer=self.block.buf, offset=DATA_OFFSET)

    def _write_header(self, dtype: np.dtype, shape: tuple, *times: float) -> None:
        dims = (*shape, *(0,) * (MAX_DIMS - len(shape)))
        _HEADER.pack_into(self.block.buf, 0, dtype.str.encode(), len(shape), *dims, *(times or (0.0, 0.0, 0.0)))

    def _read_header(self) -> tuple[np.dtype, tuple, tuple[float, float, float]]:
        fields = _HEADER.unpack_from(self.block.buf, 0)
        ndim = fields[1]
        if ndim > MAX_DIMS:
            raise ValueError(f"the ring's header has {ndim} axes")
        try:
            dtype = np.dtype(fields[0].rstrip(b"\0").decode("ascii"))
        except (TypeError, ValueError):
            raise ValueError(f"the ring's header names no dtype: {fields[0]!r}") from None
        if dtype.hasobject:
            raise ValueError("the ring never holds Python objects")
        return dtype, tuple(fields[2:2 + ndim]), fields[2 + MAX_DIMS:]

    def close(self, unlink: bool = False) -> None:
        try:
            self.block.close()
        except BufferError:
            pass  # a view of it is still alive somewhere; the mapping goes with the process
        if unlink:
            self.block.unlink()
