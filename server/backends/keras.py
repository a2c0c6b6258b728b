"""Keras 3 models (.keras, legacy .h5) and TensorFlow SavedModels, on the TensorFlow backend."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from bioclass.errors import FailedPrecondition  # noqa: E402
from bioclass.server.cards import ModelCard  # noqa: E402
from bioclass.server.devices import described, tensorflow_device  # noqa: E402


class KerasModel:
    def __init__(self, call, model=None, device: str = "cpu", note: str = ""):
        self.call = call
        self.model = model  # the Keras model, for Grad-CAM (a SavedModel has none)
        self.tf_device = "/CPU:0" if device == "cpu" else f"/GPU:{device.partition(':')[2]}"
        self.device = described(device, note)  # what it runs on, and why auto fell back to the CPU

    def forward(self, batch: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        with tf.device(self.tf_device):
            output = self.call(batch)
        if isinstance(output, dict):
            output = next(iter(output.values()))
        if isinstance(output, (list, tuple)):
            output = output[0]
        return np.asarray(output, dtype=np.float32)

    def gradcam(self, batch: np.ndarray, class_index: int) -> np.ndarray:
        if self.model is None:
            raise FailedPrecondition("Grad-CAM needs a Keras model, not a SavedModel signature (use occlusion)")
        from bioclass.server.explain.keras_gradcam import gradcam

        return gradcam(self.model, batch, class_index)

    def close(self) -> None:
        self.call = None


class Backend:
    def load(self, card: ModelCard, weights: Path, threads: int, onnx_spinning: str = "off") -> KerasModel:
        import tensorflow as tf

        _set_threads(threads)
        device, note = tensorflow_device(card.device)
        with tf.device("/CPU:0" if device == "cpu" else f"/GPU:{device.partition(':')[2]}"):
            if card.weight_format == "savedmodel":
                return KerasModel(_saved_model_call(weights), None, device, note)
            # safe_mode refuses Lambda layers and other deserialised Python code.
            model = keras.models.load_model(str(weights), safe_mode=True, compile=False)
        return KerasModel(lambda batch: model(batch, training=False), model, device, note)


def _saved_model_call(folder: Path):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(folder))
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise FailedPrecondition("SavedModel has no serving_default signature")
    input_name = next(iter(signature.structured_input_signature[1]))
    return lambda batch: signature(**{input_name: tf.constant(batch)})


def _set_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised by an earlier model
