"""Start the real `bioclass serve` in a subprocess on a free loopback port."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path


class ServerProcess:
    def __init__(self, *args: str, work_dir: Path, env: dict | None = None, timeout: float = 60.0):
        command = [sys.executable, "-m", "bioclass.cli.main", "serve", "--port", "0", "--work-dir", str(work_dir),
                   *args]
        self.work_dir = work_dir
        self.log_lines: list[str] = []
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, **(env or {})})
        self.address = self._wait_ready(timeout)
        self.started = time.perf_counter()

    def _wait_ready(self, timeout: float) -> str:
        lines: queue.Queue = queue.Queue()

        def pump():
            for line in self.process.stdout:
                self.log_lines.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            if "ready on" in line:
                return line.split("ready on", 1)[1].split()[0]
        self.stop()
        raise RuntimeError("server did not become ready:\n" + "".join(self.log_lines))

    @property
    def log(self) -> str:
        return "".join(self.log_lines)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
