"""Where the tests find the repository's samples and the shared datasets."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
SAMPLES = REPO / "model_zoo" / "samples"
