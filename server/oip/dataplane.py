"""What each OIP call does, without gRPC types: numpy tensors in, probabilities and labels out.

Every zoo model is an OIP model under its id; its versions are OIP versions ("1", "2" ...), and an empty
version names the default one (server/zoo.py). It takes exactly one input, either
`image`: raw pixels [B, H, W, C] (UINT8, UINT16 or FP32, any size; preprocessed as the card says)
or the network's own preprocessed FP32 tensor, named as ModelMetadata reports.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bioclass import __version__
from bioclass.errors import InvalidArgument, NotFound, ResourceExhausted
from bioclass.server.oip.tensors import DTYPES
from bioclass.server.runner import Runner
from bioclass.server.service import ClassifierService

IMAGE_INPUT = "image"
IMAGE_DATATYPES = {np.dtype(np.uint8): "UINT8", np.dtype("<u2"): "UINT16", np.dtype("<f4"): "FP32"}
OUTPUTS = ("probabilities", "label")
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

    def model(self, name: str, version: str = "") -> Runner:
        if version and not (version.isascii() and version.isdigit() and len(version) <= 7):
            raise NotFound(f"model {name!r} has no version {version!r}; versions are numbers")
        return self.service.model(f"{name}@{int(version)}" if version else name)

    def versions(self, runner: Runner) -> list[str]:
        return [str(n) for n in sorted(self.service.zoo.versions.get(runner.card.id, {runner.version: runner}))]

    @staticmethod
    def ready(runner: Runner) -> bool:
        """Ready unless it failed or is loading and warming up: an unloaded model loads on its next request."""
        return runner.state not in ("FAILED", "LOADING")

    def metadata(self, runner: Runner) -> tuple[list[TensorSpec], list[TensorSpec]]:
        inputs = [TensorSpec(IMAGE_INPUT, "UINT8", (-1, -1, -1, -1)),
                  TensorSpec(network_input_name(runner), "FP32", (-1, *runner.input_shape))]
        outputs = [TensorSpec("probabilities", "FP32", (-1, len(runner.card.labels))),
                   TensorSpec("label", "BYTES", (-1,))]
        return inputs, outputs

    async def infer(self, runner: Runner, inputs: dict[str, np.ndarray], method: str) -> Inference:
        probabilities = await self.service.infer_arrays(runner, method, lambda: self._checked_input(runner, inputs))
        labels = runner.card.labels
        return Inference(probabilities, [labels[i] for i in probabilities.argmax(axis=1)])

    def _checked_input(self, runner: Runner, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, bool]:
        """The one input, checked, and whether it holds raw images (else the network's own input)."""
        network = network_input_name(runner)
        if len(inputs) != 1 or next(iter(inputs)) not in (IMAGE_INPUT, network):
            raise InvalidArgument(f"model {runner.card.id} takes exactly one input: {IMAGE_INPUT!r} (raw pixels "
                                  f"[B,H,W,C]) or {network!r} (FP32 {[-1, *runner.input_shape]}); got "
                                  f"{sorted(inputs) or 'none'}")
        name, array = next(iter(inputs.items()))
        if name == network:
            return check_network_input(runner, name, array), False
        check_images(array, self.service.settings.max_pixels)
        return array, True

    def index(self, ready_only: bool) -> list[tuple[str, str, str, str]]:
        """(model id, version, state, reason) of every version of every model, in Triton's state words."""
        rows = []
        for runner in self.service.models(every_version=True):
            state = {"LOADED": "READY", "LOADING": "LOADING"}.get(runner.state, "UNAVAILABLE")
            reason = runner.error or ("" if state in ("READY", "LOADING") else "unloaded; loads on its next request")
            if not ready_only or state == "READY":
                rows.append((runner.card.id, str(runner.version), state, reason))
        return rows


def network_input_name(runner: Runner) -> str:
    name = runner.card.input.tensor_name or "input"
    return name if name != IMAGE_INPUT else "network_input"


def check_network_input(runner: Runner, name: str, array: np.ndarray) -> np.ndarray:
    expected = (-1, *runner.input_shape)
    if array.dtype != np.float32:
        raise InvalidArgument(f"input {name!r} must be FP32; got {_datatype(array)}")
    if array.ndim != 4 or array.shape[1:] != runner.input_shape or not len(array):
        raise InvalidArgument(f"input {name!r} must have shape {list(expected)}; got {list(array.shape)}")
    if not np.isfinite(array).all():  # a network answers NaN with some label: refuse it instead
        raise InvalidArgument(f"input {name!r} contains NaN or infinite values")
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
