"""Explanations for the service layer: pick the method, compute the map, map it back to the image.

Grad-CAM needs gradients, so it runs in the model's own framework: in a model process of its own
(started on the first explanation of a model), which keeps gradient passes, slower and heavier
than predictions, out of the runner's batched prediction processes. These processes start within the
memory budget and are stopped, least recently used first, to make room like the models' own.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from bioclass.errors import BioclassError, InvalidArgument
from bioclass.server.explain.maps import to_original
from bioclass.server.explain.occlusion import occlusion
from bioclass.server.explain.options import ExplainOptions, ExplanationResult, target_index
from bioclass.server.lifecycle import ModelLifecycle, Usage, resident_bytes
from bioclass.server.runner import ModelRunner
from bioclass.server.session import ModelSession, SessionCrashed

log = logging.getLogger(__name__)

GRADCAM_FRAMEWORKS = ("pytorch", "keras")


@dataclass
class _GradcamProcess:
    """One model's Grad-CAM process; the memory budget manages it like a model (server/lifecycle.py's
    Managed)."""
    runner: ModelRunner  # the runner it was started for: a re-registered model gets a new process
    executor: ThreadPoolExecutor  # session calls block and go one at a time
    session: ModelSession | None = None
    usage: Usage = field(default_factory=Usage)
    pinned = False

    @property
    def state(self) -> str:
        return "LOADED" if self.session is not None else "UNLOADED"

    @property
    def key(self) -> str:
        return f"Grad-CAM of {self.runner.key}"

    @property
    def framework(self) -> str:
        return self.runner.card.framework

    def memory_bytes(self) -> int:
        session = self.session
        return resident_bytes(session.process.pid) if session is not None and session.process else 0

    def start(self) -> None:
        if self.session is None:
            self.session = ModelSession(self.runner.folder, self.runner.threads,
                                        load_timeout_s=self.runner.policy.load_timeout_s)

    def gradcam(self, batch: np.ndarray, class_index: int) -> np.ndarray:
        self.start()  # again, if the budget stopped it since
        return self.session.gradcam(batch, class_index)

    async def evict(self) -> bool:
        if self.usage.in_flight or self.session is None:
            return False
        await asyncio.get_running_loop().run_in_executor(self.executor, self.stop)  # after a pass under way
        return True

    def stop(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()

    def close(self) -> None:
        self.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)


class Explainer:
    def __init__(self, lifecycle: ModelLifecycle | None = None):
        self._processes: dict[str, _GradcamProcess] = {}
        self.lifecycle = lifecycle
        if lifecycle is not None:
            lifecycle.helpers.append(lambda: list(self._processes.values()))

    def class_index(self, runner: ModelRunner, options: ExplainOptions) -> int | None:
        """Validate the options before any work; None: explain the predicted class."""
        options.checked()
        if options.method == "gradcam" and runner.card.framework not in GRADCAM_FRAMEWORKS:
            raise InvalidArgument(f"Grad-CAM needs a PyTorch or Keras model; {runner.card.id} is "
                                  f"{runner.card.framework}: use occlusion or auto")
        return target_index(runner.card, options.target)

    async def explain(self, runner: ModelRunner, network_input: np.ndarray, probabilities: np.ndarray,
                      original: tuple[int, int], options: ExplainOptions) -> ExplanationResult:
        """The map for one preprocessed image (no batch axis) whose probabilities are known."""
        index = self.class_index(runner, options)
        index = int(np.argmax(probabilities)) if index is None else index
        started = time.perf_counter()
        raw, method = None, "occlusion"
        if options.method in ("", "auto", "gradcam") and runner.card.framework in GRADCAM_FRAMEWORKS:
            raw = await self._gradcam(runner, network_input, index, required=options.method == "gradcam")
            method = "gradcam" if raw is not None else method
        if raw is None:
            raw = await self._occlusion(runner, network_input, index, options)
        loop = asyncio.get_running_loop()
        saliency = await loop.run_in_executor(None, to_original, raw, runner.card, original)
        return ExplanationResult(saliency, method, index, runner.card.labels[index],
                                 (time.perf_counter() - started) * 1000)

    async def _gradcam(self, runner: ModelRunner, network_input: np.ndarray, index: int,
                       required: bool) -> np.ndarray | None:
        process = self._process(runner)
        try:
            with process.usage.held():  # not stopped for room while it works
                if process.session is None:
                    await self._start(process)
                maps = await asyncio.get_running_loop().run_in_executor(process.executor, process.gradcam,
                                                                        network_input[None], index)
        except SessionCrashed:
            self._drop(runner.card.id)
            raise
        except BioclassError as exc:
            if required or exc.code.name not in ("FAILED_PRECONDITION", "INTERNAL"):
                raise
            log.info("model %s: no Grad-CAM (%s); using occlusion", runner.card.id, exc.message)
            return None
        return maps[0]

    async def _start(self, process: _GradcamProcess) -> None:
        """Start the process once the memory budget has made room for it."""
        if self.lifecycle is not None:
            await self.lifecycle.reserve(process)
        try:
            await asyncio.get_running_loop().run_in_executor(process.executor, process.start)
        finally:
            if self.lifecycle is not None:
                self.lifecycle.loaded(process, process.memory_bytes())

    async def _occlusion(self, runner: ModelRunner, network_input: np.ndarray, index: int,
                         options: ExplainOptions) -> np.ndarray:
        async def infer(batch: np.ndarray) -> np.ndarray:
            return (await runner.infer(batch, method="Explain"))[0]

        channels_first = runner.card.input.axes == "bchw"
        batch_size = max(1, runner.max_batch_size)
        try:
            return await occlusion(network_input, channels_first, index, infer, options.window, options.stride,
                                   batch_size)
        except BioclassError as exc:
            if batch_size == 1 or exc.code.name != "INTERNAL":
                raise
            # A network with a fixed batch axis refuses several occluded copies at once: one at a time.
            return await occlusion(network_input, channels_first, index, infer, options.window, options.stride, 1)

    def _process(self, runner: ModelRunner) -> _GradcamProcess:
        process = self._processes.get(runner.card.id)
        if process is not None and process.runner is not runner:
            self._drop(runner.card.id)
            process = None
        if process is None:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"explain-{runner.card.id}")
            process = self._processes[runner.card.id] = _GradcamProcess(runner, executor)
        return process

    def _drop(self, model_id: str) -> None:
        process = self._processes.pop(model_id, None)
        if process is not None:
            process.close()

    def close(self) -> None:
        for model_id in list(self._processes):
            self._drop(model_id)
