"""ONNX models run inside the server process, for cards that trade crash isolation for latency.

A model session in its own process (session.py) costs each forward pass two process wake-ups (the
model process's and the event loop's), a share of a small network's pass (bench/README.md). With `serving: {isolation: in_process}` (or the server setting
`onnx_in_process`) an ONNX model runs in the server's own ONNX Runtime instead, the way Triton runs
its backends; ONNX Runtime releases the GIL, so passes run in the instance's thread while the event
loop keeps serving. The price: a crash inside ONNX Runtime would take the server down with it,
so this is an opt-in, and only for ONNX (torch and TensorFlow never load in the server process).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bioclass.errors import BioclassError
from bioclass.server.session import device_of, forward_of, gradcam_of


class InProcessSession:
    """A ModelSession's interface over an ONNX Runtime session in this process."""

    process = None  # no model process: nothing to watch in metrics, nothing to restart

    def __init__(self, folder: Path, threads: int, onnx_spinning: str = "off", load_timeout_s: float = 600.0):
        from bioclass.server.backends.onnx import Backend  # ONNX Runtime loads with the first such model
        from bioclass.server.cards import read_card

        card = read_card(folder)
        self._model = Backend().load(card, folder / card.weights, threads, onnx_spinning)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"onnx-{card.id}")
        self.load_note = "runs in the server process (serving.isolation: in_process)"
        self.device = device_of(self._model)

    def forward(self, batch: np.ndarray, alone: bool = False) -> np.ndarray:
        try:
            return forward_of(self._model, batch, alone)
        except Exception as exc:  # noqa: BLE001 - reported as a model process reports it
            raise _failed_pass(exc) from None

    def forward_parts(self, parts: list[np.ndarray], alone: bool = False) -> np.ndarray:
        return self.forward(_stacked(parts), alone)

    async def forward_parts_async(self, parts: list[np.ndarray], alone: bool = False) -> np.ndarray:
        # A thread of our own, not InferenceSession.run_async: a process that had used run_async
        # aborted at exit ("exception not rethrown").
        return await asyncio.get_running_loop().run_in_executor(self._thread, self.forward_parts, parts, alone)

    def gradcam(self, batch: np.ndarray, class_index: int) -> np.ndarray:
        return gradcam_of(self._model, batch, class_index)  # ONNX has none: the same refusal as in a model process

    @property
    def alive(self) -> bool:
        return True

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        self._model.close()


def _stacked(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _failed_pass(exc: Exception) -> BioclassError:
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return BioclassError(f"{type(exc).__name__}: {first_line}")
