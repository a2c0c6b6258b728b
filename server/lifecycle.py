"""Serving many models on one machine: a memory budget, least-recently-used unloading, model states.

The budget covers the server process and every process under it (model processes, Grad-CAM helpers,
training jobs): their resident memory is read from /proc. Before a model loads, the server makes room
for what the model is expected to take (what it took last time, else the most another model of its
framework took, else a per-framework guess) by stopping the least recently used models that are idle
(no request in flight or queued) and not pinned (`serving.pinned: true`). The next request for a stopped
model loads it again and waits for it. Measuring and stopping run in threads: the event loop never waits
on /proc or on a process to exit.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

MiB = 1024 * 1024
# A fraction of the machine, not all of it: resident sizes of processes double-count the libraries they
# share, the server decodes images and runs training jobs and AutoML trials beside its models, and a lab
# machine is used for other work too (viewers, notebooks) whose memory the server cannot see.
DEFAULT_BUDGET_FRACTION = 0.5
# What a first model of a framework is expected to take before any has been measured (resident memory
# of a model process once its framework is imported; the largest networks take more, and are measured).
FIRST_LOAD_GUESS = {"onnx": 150 * MiB, "classical": 200 * MiB, "pytorch": 600 * MiB, "keras": 900 * MiB}

STATES = ("AVAILABLE", "LOADING", "LOADED", "UNLOADED", "FAILED")


def machine_memory_mb(meminfo: Path = Path("/proc/meminfo")) -> int:
    """MemTotal in MiB (the machine's RAM; 8 GiB when /proc/meminfo cannot be read)."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 8192


def default_budget_mb() -> int:
    return max(256, int(machine_memory_mb() * DEFAULT_BUDGET_FRACTION))


def resident_bytes(pid: int) -> int:
    """VmRSS of one process; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def descendants(root: int) -> list[int]:
    """Every process under `root` (children, their children ...), from each process's parent in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, frontier = [], [root]
    while frontier:
        frontier = [child for pid in frontier for child in children.get(pid, [])]
        found.extend(frontier)
    return found


def tree_resident_bytes(root: int) -> int:
    """Resident memory of `root` and every process under it."""
    return sum(resident_bytes(pid) for pid in [root, *descendants(root)])


class Usage:
    """What the budget and the listings need to know of one served model."""

    def __init__(self) -> None:
        self.in_flight = 0  # requests being answered or waiting, from their arrival
        self.last_used = 0.0  # time.time() of the last request's arrival or answer; 0: never
        self.measured_bytes = 0  # resident memory of its processes when last loaded (0: never measured)

    def begin(self) -> None:
        self.in_flight += 1
        self.last_used = time.time()

    def end(self) -> None:
        self.in_flight -= 1
        self.last_used = time.time()

    @contextlib.contextmanager
    def held(self):
        """A request from its arrival to its answer: its model is not unloaded meanwhile, even while the
        request waits for the model to load or is preprocessed."""
        self.begin()
        try:
            yield
        finally:
            self.end()


class Managed(Protocol):
    """What the lifecycle needs of a runner (server/runner.py's ModelRunner)."""

    usage: Usage
    state: str

    @property
    def pinned(self) -> bool: ...

    @property
    def framework(self) -> str: ...

    def memory_bytes(self) -> int: ...

    async def evict(self) -> bool:
        """Stop the model's processes if it is still idle; False when a request came first."""


class ModelLifecycle:
    """The memory budget and the state listeners of every model served on this machine."""

    def __init__(self, budget_mb: int, runners: Callable[[], Iterable[Managed]]):
        """budget_mb 0: no budget (nothing is unloaded to make room)."""
        self.budget_bytes = budget_mb * MiB
        self.runners = runners
        self.helpers: list[Callable[[], Iterable[Managed]]] = []  # other processes that may be stopped for room
        self.listeners: list[Callable[[Managed], None]] = []  # called on every state change
        self._lock = asyncio.Lock()
        self._reserved: dict[int, int] = {}  # id(runner) -> bytes expected while it loads
        self._measured_by_framework: dict[str, int] = {}

    def changed(self, runner: Managed) -> None:
        for listener in self.listeners:
            listener(runner)

    async def reserve(self, runner: Managed) -> None:
        """Make room for `runner` before it loads (stopping idle models, least recently used first)."""
        if not self.budget_bytes:
            return
        loop = asyncio.get_running_loop()
        async with self._lock:
            need = self.expected_bytes(runner)
            while True:
                used = await loop.run_in_executor(None, tree_resident_bytes, os.getpid())
                used += sum(self._reserved.values())
                if used + need <= self.budget_bytes:
                    break
                victim = self._least_recently_used(runner)
                if victim is None:
                    log.warning("memory budget: %d MiB used, %s needs about %d MiB more and every loaded model is "
                                "busy or pinned; loading it over the budget of %d MiB", used // MiB,
                                _name(runner), need // MiB, self.budget_bytes // MiB)
                    break
                log.info("memory budget: unloading %s (%d MiB, idle for %.0f s) to make room for %s",
                         _name(victim), victim.memory_bytes() // MiB, time.time() - victim.usage.last_used,
                         _name(runner))
                await victim.evict()
            self._reserved[id(runner)] = need

    def loaded(self, runner: Managed, resident: int) -> None:
        """The runner finished loading (resident: its processes' memory now); its reservation ends."""
        self._reserved.pop(id(runner), None)
        if resident:
            runner.usage.measured_bytes = resident
            known = self._measured_by_framework.get(runner.framework, 0)
            self._measured_by_framework[runner.framework] = max(known, resident)

    def expected_bytes(self, runner: Managed) -> int:
        return (runner.usage.measured_bytes or self._measured_by_framework.get(runner.framework)
                or FIRST_LOAD_GUESS.get(runner.framework, 600 * MiB))

    def _least_recently_used(self, requester: Managed) -> Managed | None:
        # A model whose memory is not on this machine (Ray replicas) frees nothing here.
        candidates = [*self.runners(), *(process for helpers in self.helpers for process in helpers())]
        idle = [r for r in candidates if r is not requester and r.state == "LOADED" and not r.pinned
                and r.usage.in_flight == 0 and r.memory_bytes() > 0]
        return min(idle, key=lambda r: r.usage.last_used, default=None)


def _name(runner) -> str:
    return getattr(runner, "key", "") or runner.card.id
