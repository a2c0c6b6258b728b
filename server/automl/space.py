"""The AutoML search space and metrics: plain constants, importable without Optuna."""
from __future__ import annotations

# bioclass's from-scratch CNNs for few labels (no pretrained weights needed), then ImageNet
# compact networks, then standard ones as the ATLASS comparison had them.
FEW_LABELS = ("bioclass:small_cnn3", "bioclass:small_cnn4")
COMPACT = ("mobilenetv3_small_050", "mobilenetv3_small_100", "lcnet_050", "mnasnet_small", "efficientnet_lite0")
STANDARD = ("resnet10t", "resnet18")
DEFAULT_ARCHITECTURES = FEW_LABELS + ("mobilenetv3_small_050", "lcnet_050") + STANDARD
# Epochs per trial (log scale): a few dozen labelled images need many passes; the trial's time limit
# stops a large dataset first.
EPOCHS = (3, 100)
# The first trial of a new study, when its architecture is among the request's: a recipe that
# learns from a few dozen labels (measured on malaria-cells-50, 25 per class), so the search
# starts from a sound model whatever the sampler tries next.
STARTING_POINT = {"architecture": "bioclass:small_cnn3", "learning_rate": 3e-3, "augmentation": "light",
                  "epochs": 60, "semi_supervised": "none"}
DEFAULT_IMAGE_SIZES = (32, 48, 64)  # when a run has no dataset profile (one stored before profiles)
# "native": tiles of the input size at native scale; "none": the whole image resized to the input size.
TILINGS = ("none", "native")
SCALES = ("range", "percentile", "zscore", "minmax")
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
