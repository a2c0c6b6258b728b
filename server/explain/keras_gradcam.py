"""Grad-CAM for Keras models (Functional or Sequential), run inside the model's process.

The probe is a second Model sharing the layers, returning the last top-level Conv2D's output
with the prediction; tf.GradientTape differentiates the class score with respect to it.
"""
from __future__ import annotations

import numpy as np

from bioclass.errors import FailedPrecondition

_PROBES: dict[int, object] = {}


def gradcam(model, batch: np.ndarray, class_index: int) -> np.ndarray:
    """Class activation maps (B, h, w) at the last convolution's resolution, not normalised."""
    import tensorflow as tf

    probe = _probe(model)
    with tf.GradientTape() as tape:
        features, logits = probe(tf.constant(batch), training=False)
        score = _class_score(logits, class_index)
    gradients = tape.gradient(score, features)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # channels last
    return tf.nn.relu(tf.reduce_sum(weights * features, axis=-1)).numpy().astype(np.float32)


def _class_score(logits, class_index: int):
    import tensorflow as tf

    if isinstance(logits, (list, tuple)):
        logits = logits[0]
    if logits.shape[-1] == 1:
        return tf.reduce_sum(logits[:, 0]) * (1.0 if class_index == 1 else -1.0)
    return tf.reduce_sum(logits[:, class_index])


def _probe(model):
    import keras

    key = id(model)
    if key not in _PROBES:
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        if not convs:
            raise FailedPrecondition("the model has no top-level Conv2D layer; Grad-CAM needs one (use occlusion)")
        if getattr(convs[-1], "data_format", "channels_last") != "channels_last":
            raise FailedPrecondition("Grad-CAM supports channels_last convolutions only (use occlusion)")
        _PROBES[key] = keras.Model(model.inputs, [convs[-1].output, model.outputs[0]])
    return _PROBES[key]
