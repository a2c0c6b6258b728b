"""Constants shared by the AutoML tests (a plain module: conftest modules shadow each other)."""
from paths import DATASETS

MALARIA = DATASETS / "malaria-cells-50"
CLASSES = ("Parasitized", "Uninfected")
ENV = {"BIOCLASS_INFERENCE_THREADS": "1", "BIOCLASS_TRAINING_SLOTS": "2"}
SEARCH = dict(architectures=["mobilenetv3_small_050", "resnet10t"], image_sizes=[32], threads=1,
              semi_supervised_modes=["none", "data"])
