"""What each OIP call does, without gRPC types: numpy tensors in, probabilities and labels out.

Every zoo model is an OIP model under its id, version "1". It takes exactly one input, either
`image`: raw pixels [B, H, W, C] (UINT8, UINT16 or FP32, any size; preprocessed as the card says)
or the network's own preprocessed FP32 tensor, named as ModelMetadata reports.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from bioclass import __version__
from bioclass.errors import BioclassError, InvalidArgument, NotFound, ResourceExhausted
from bioclass.server import metrics, tiling
from bioclass.server.oip.tensors import DTYPES
from bioclass.server.runner import ModelRunner
from bioclass.server.service import INLINE_TENSOR_BYTES, ClassifierService

IMAGE_INPUT = "image"
IMAGE_DATATYPES = {np.dtype(np.uint8): "UINT8", np.dtype("<u2"): "UINT16", np.dtype("<f4"): "FP32"}
OUTPUTS = ("probabilities", "label")
VERSION = "1"
EXTENSIONS = ["model_repository", "statistics", "binary_tensor_data"]


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass
class Inference:
    probabilities: np.ndarray  # (B, K) float32
    labels: list[str]


class InferenceDataPlane:
    def __init__(self, service: ClassifierService):
        self.service = service
        self.server_name = "bioclass"
        self.version = __version__
        # Preprocessing raw images is CPU work: off the event loop.
        self._cpu = ThreadPoolExecutor(max_workers=2, thread_name_prefix="oip-prepare")

    def model(self, name: str, version: str = "") -> ModelRunner:
        if version not in ("", VERSION):
            raise NotFound(f"model {name!r} has no version {version!r}; its only version is {VERSION}")
        return self.service.model(name)

    @staticmethod
    def ready(runner: ModelRunner) -> bool:
        """Ready unless it failed: models load on their first request."""
        return runner.state != "FAILED"

    def metadata(self, runner: ModelRunner) -> tuple[list[TensorSpec], list[TensorSpec]]:
        inputs = [TensorSpec(IMAGE_INPUT, "UINT8", (-1, -1, -1, -1)),
                  TensorSpec(network_input_name(runner), "FP32", (-1, *runner.input_shape))]
        outputs = [TensorSpec("probabilities", "FP32", (-1, len(runner.card.labels))),
                   TensorSpec("label", "BYTES", (-1,))]
        return inputs, outputs

    async def infer(self, runner: ModelRunner, inputs: dict[str, np.ndarray], method: str) -> Inference:
        try:
            batch = await self._network_batch(runner, inputs)
        except BioclassError as exc:
            metrics.REQUESTS.labels(runner.card.id, method).inc()
            metrics.FAILURES.labels(runner.card.id, method, exc.code.name).inc()
            raise
        if isinstance(batch, list):  # raw images, each one or more tiles: one pass, then each image's answer
            rows, _ = await runner.infer(np.concatenate(batch), method)
            ends = np.cumsum([len(tiles) for tiles in batch])
            probabilities = np.stack([tiling.aggregate(part, runner.card) for part in np.split(rows, ends[:-1])])
        else:
            probabilities, _ = await runner.infer(batch, method)
        labels = runner.card.labels
        return Inference(probabilities, [labels[i] for i in probabilities.argmax(axis=1)])

    async def _network_batch(self, runner: ModelRunner, inputs: dict[str, np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """The network's own input as sent, or each raw image's network inputs (its tiles when the card tiles)."""
        network = network_input_name(runner)
        if len(inputs) != 1 or next(iter(inputs)) not in (IMAGE_INPUT, network):
            raise InvalidArgument(f"model {runner.card.id} takes exactly one input: {IMAGE_INPUT!r} (raw pixels "
                                  f"[B,H,W,C]) or {network!r} (FP32 {[-1, *runner.input_shape]}); got "
                                  f"{sorted(inputs) or 'none'}")
        name, array = next(iter(inputs.items()))
        if name == network:
            return check_network_input(runner, name, array)
        check_images(array, self.service.settings.max_pixels)
        await runner.ensure_loaded()  # a model that cannot load fails before any preprocessing
        if array.nbytes <= INLINE_TENSOR_BYTES:
            return self.prepare_images(array, runner)
        return await asyncio.get_running_loop().run_in_executor(self._cpu, self.prepare_images, array, runner)

    def prepare_images(self, array: np.ndarray, runner: ModelRunner) -> list[np.ndarray]:
        return [self.service.network_inputs(image, runner.card) for image in array]

    def index(self, ready_only: bool) -> list[tuple[str, str, str]]:
        """(model id, state, reason) of every model, in Triton's state words."""
        rows = []
        for runner in self.service.models():
            state = {"LOADED": "READY", "FAILED": "UNAVAILABLE", "AVAILABLE": "UNAVAILABLE"}[runner.state]
            reason = runner.error or ("" if state == "READY" else "unloaded; loads on its first request")
            if not ready_only or state == "READY":
                rows.append((runner.card.id, state, reason))
        return rows

    def close(self) -> None:
        self._cpu.shutdown(wait=False, cancel_futures=True)


def network_input_name(runner: ModelRunner) -> str:
    name = runner.card.input.tensor_name or "input"
    return name if name != IMAGE_INPUT else "network_input"


def check_network_input(runner: ModelRunner, name: str, array: np.ndarray) -> np.ndarray:
    expected = (-1, *runner.input_shape)
    if array.dtype != np.float32:
        raise InvalidArgument(f"input {name!r} must be FP32; got {_datatype(array)}")
    if array.ndim != 4 or array.shape[1:] != runner.input_shape or not len(array):
        raise InvalidArgument(f"input {name!r} must have shape {list(expected)}; got {list(array.shape)}")
    return array


def check_images(array: np.ndarray, max_pixels: int) -> None:
    if array.dtype not in IMAGE_DATATYPES:
        raise InvalidArgument(f"input {IMAGE_INPUT!r} must be UINT8, UINT16 or FP32; got {_datatype(array)}")
    if array.ndim != 4 or 0 in array.shape or array.shape[3] not in (1, 3, 4):
        raise InvalidArgument(f"input {IMAGE_INPUT!r} must have shape [B,H,W,C] with C 1, 3 or 4 and no "
                              f"empty axis; got {list(array.shape)}")
    if array.shape[1] * array.shape[2] > max_pixels:
        raise ResourceExhausted(f"images of {array.shape[2]}x{array.shape[1]} exceed the server's limit of "
                              f"{max_pixels} pixels")
    if array.dtype == np.float32 and not np.isfinite(array).all():
        raise InvalidArgument(f"input {IMAGE_INPUT!r} contains NaN or infinite values")


def _datatype(array: np.ndarray) -> str:
    return next((name for name, dtype in DTYPES.items() if dtype == array.dtype), str(array.dtype))
