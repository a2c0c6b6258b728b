"""Where the tests find the repository's samples and the shared datasets."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A worktree beside the main checkout names the shared datasets with BIOCLASS_TEST_DATASETS.
DATASETS = Path(os.environ.get("BIOCLASS_TEST_DATASETS", REPO.parent / "shared" / "datasets"))
SAMPLES = REPO / "model_zoo" / "samples"
