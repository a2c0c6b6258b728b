"""Classical models: the card's handcrafted features, then an ONNX head (scikit-learn, exported by skl2onnx).

The feature set is declared in the card (name, version, parameters) and computed here, inside the
model's process; the only weights are ONNX, so nothing uploaded is ever unpickled.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from bioclass.errors import FailedPrecondition
from bioclass.server.backends.onnx import check_external_data, session_options
from bioclass.server.cards import ModelCard
from bioclass.server.classical import features
from bioclass.server.classical.spec import PROBABILITIES, FeatureSpec


class ClassicalModel:
    def __init__(self, spec: FeatureSpec, session: ort.InferenceSession):
        self.spec, self.session = spec, session
        self.input_name = session.get_inputs()[0].name
        # The features are computed with NumPy and the head is small: both run on the CPU whatever the card says.
        self.device = "cpu (a classical model's features and head run on the CPU)"

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([PROBABILITIES], {self.input_name: features.compute(batch, self.spec)})[0]

    def close(self) -> None:
        self.session = None


class Backend:
    def load(self, card: ModelCard, weights: Path, threads: int, onnx_spinning: str = "off") -> ClassicalModel:
        check_external_data(weights)
        session = ort.InferenceSession(str(weights), sess_options=session_options(threads, spinning=onnx_spinning),
                                       providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        if PROBABILITIES not in outputs:
            raise FailedPrecondition(f"a classical head must output {PROBABILITIES!r}; its outputs are {outputs}")
        return ClassicalModel(card.features, session)
