"""ONNX models through ONNX Runtime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from bioclass.errors import FailedPrecondition
from bioclass.server.cards import ModelCard, spinning_mode
from bioclass.server.devices import described, onnx_providers, onnx_used


class OnnxModel:
    def __init__(self, session: ort.InferenceSession, input_name: str, device: str = "cpu",
                 lone_session: ort.InferenceSession | None = None):
        self.session = session
        self.lone_session = lone_session or session  # spinning `alone`: a second session whose threads spin
        self.device = device  # what it runs on, and why auto fell back to the CPU
        self.input_name = input_name
        self.output_name = session.get_outputs()[0].name

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([self.output_name], {self.input_name: batch})[0]

    def forward_alone(self, batch: np.ndarray) -> np.ndarray:
        """A pass for the model's only request in flight: no other pass wants the cores it spins on."""
        return self.lone_session.run([self.output_name], {self.input_name: batch})[0]

    def close(self) -> None:
        self.session = self.lone_session = None


def session_options(threads: int, optimization: str = "ORT_ENABLE_ALL", spinning: bool | str = "off",
                    ) -> ort.SessionOptions:
    """How the server runs every ONNX model (training exports and AutoML time theirs the same way).
    `spinning`: off, pass or always (cards.spinning_mode); `alone` is two sessions, this one off (the
    caller makes the lone one: Backend.load)."""
    options = ort.SessionOptions()
    # One forward pass uses every core; the server runs passes of one model one at a time,
    # so inter-op parallelism would only oversubscribe the CPU.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # By default idle pool threads sleep: between passes the cores belong to the server's gRPC and
    # preprocessing threads (and other models), which spinning starves on a busy machine. Sleeping
    # threads are woken for each parallel operator of a pass, though; `pass` lets them spin while a
    # pass runs and sleep once it returns, `always` spins between passes too, and `alone` (the default)
    # spins only where no other request waits for the cores (bench/README.md).
    spinning = spinning_mode(spinning)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0" if spinning in ("off", "alone") else "1")
    if spinning == "pass":
        options.add_session_config_entry("session.force_spinning_stop", "1")
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, optimization)
    return options


class Backend:
    def load(self, card: ModelCard, weights: Path, threads: int, onnx_spinning: str = "off") -> OnnxModel:
        check_external_data(weights)
        providers, device, note = onnx_providers(card.device)
        session = ort.InferenceSession(str(weights), sess_options=session_options(threads, spinning=onnx_spinning),
                                       providers=providers)
        device, note = onnx_used(session, device, note)
        inputs = [i.name for i in session.get_inputs()]
        name = card.input.tensor_name or inputs[0]
        if name not in inputs:
            raise FailedPrecondition(f"ONNX model has no input {name!r}; its inputs are {inputs}")
        lone = None
        if spinning_mode(onnx_spinning) == "alone" and device == "cpu":  # a GPU's pass does not wait on sleeping CPU threads
            # ONNX Runtime fixes spinning when a session is made: a second session, whose threads
            # spin, serves passes that run alone (the weights are held twice; bench/README.md)
            lone = ort.InferenceSession(str(weights), sess_options=session_options(threads, spinning="always"),
                                        providers=providers)
        return OnnxModel(session, name, described(device, note), lone)


def check_external_data(weights: Path) -> None:
    """Refuse tensors stored outside the model's folder (an uploaded model must not read other files)."""
    import onnx

    folder = weights.resolve().parent
    model = onnx.load(str(weights), load_external_data=False)
    for tensor in onnx.external_data_helper._get_all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (folder / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(folder):
            raise FailedPrecondition(f"tensor {tensor.name} refers to external data {location!r} outside the "
                                     "model's folder")
