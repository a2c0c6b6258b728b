"""Where the tests find the repository's samples and the shared datasets."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Beside the repository; BIOCLASS_TEST_DATASETS names them for a checkout elsewhere (a git worktree).
DATASETS = Path(os.environ.get("BIOCLASS_TEST_DATASETS", REPO.parent / "shared" / "datasets"))
SAMPLES = REPO / "model_zoo" / "samples"
