"""The built-in model zoo: one folder per model, each with a card.yaml and its weights."""
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent
