"""Constants and helpers shared by the classical tests (a plain module: conftest modules shadow each other)."""
from paths import DATASETS

TIFF16 = sorted((DATASETS / "tiff16-samples").glob("*.tif"))
JURKAT = DATASETS / "jurkat-cell-cycle"
MALARIA = DATASETS / "malaria-cells-50"
PER_CLASS = 12


class Reporter:
    """What a job reports, kept for the test to read (the job process's pipe, in memory)."""

    def __init__(self):
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        self.lines.append(line)

    def progress(self, **values) -> None:
        pass

    def check(self) -> None:
        pass
