"""Where the tests find the repository's samples and the shared datasets."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Beside the checkout (main), or above it (a worktree under another folder).
DATASETS = next((folder / "shared" / "datasets" for folder in REPO.parents if (folder / "shared" / "datasets").is_dir()),
                REPO.parent / "shared" / "datasets")
SAMPLES = REPO / "model_zoo" / "samples"
