"""The AutoML search space and metrics: plain constants, importable without Optuna."""
from __future__ import annotations

# Compact networks first; standard ones as the ATLASS comparison had them.
COMPACT = ("mobilenetv3_small_050", "mobilenetv3_small_100", "lcnet_050", "mnasnet_small", "efficientnet_lite0")
STANDARD = ("resnet10t", "resnet18")
DEFAULT_ARCHITECTURES = COMPACT[:3] + STANDARD
DEFAULT_IMAGE_SIZES = (32, 48, 64)
SEMI_SUPERVISED = ("none", "data", "model", "model_data", "data_iterative", "model_iterative", "model_data_iterative",
                   "topological")
DEFAULT_SEMI_SUPERVISED = ("none", "data", "model_data")
METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "mcc", "cohen_kappa", "auroc")
# Augmentation strength: none, or flips plus growing geometric and photometric changes.
AUGMENTATION = {
    "none": "",
    "light": "- {technique: flip_horizontal}\n- {technique: flip_vertical}\n",
    "strong": ("- {technique: flip_horizontal}\n- {technique: flip_vertical}\n- {technique: rotate, limit: 30}\n"
               "- {technique: brightness_contrast, p: 0.5}\n- {technique: gaussian_blur, p: 0.2}\n"),
}
