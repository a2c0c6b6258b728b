"""Saliency maps: where a classifier looked when it chose a class.

Grad-CAM runs inside the model's process (torch_gradcam, keras_gradcam, reached through the
session's "gradcam" op); occlusion runs here in the server over batched forward passes of any
model. explainer.Explainer picks the method and maps the result back onto the original image.
"""
from bioclass.server.explain.options import METHODS, ExplainOptions, ExplanationResult

__all__ = ["METHODS", "ExplainOptions", "ExplanationResult"]
