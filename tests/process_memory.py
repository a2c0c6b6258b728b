"""Resident memory of a process and its descendants (a server and its model processes), from /proc."""
from __future__ import annotations

import threading
import time
from pathlib import Path


def resident_bytes(pid: int) -> int:
    """VmRSS of a process and all its descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError):
            continue
    family, total = {pid}, 0
    while grown := {p for p, parent in parents.items() if parent in family} - family:
        family |= grown
    for member in family:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS")), 0)
    return total


class PeakMemory:
    """`with PeakMemory(pid) as memory:` samples resident_bytes every 50 ms; `memory.peak` after."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, resident_bytes(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> "PeakMemory":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, resident_bytes(self.pid))
