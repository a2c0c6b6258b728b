"""Paths of the Java builds and a runner for Java programs, shared by the tests of this folder."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT_BUILD = REPO / "clients" / "java" / "build"
IMAGEJ_SITE = REPO / "plugins" / "imagej" / "build" / "site"
IJ_JAR = Path("/usr/share/java/ij.jar")
BUILD_SCRIPTS = ["plugins/imagej/build.sh", "plugins/qupath/build.sh", "plugins/icy/build.sh"]


@dataclass
class JavaBuild:
    client_classpath: list[Path]

    @property
    def test_classes(self) -> Path:
        """ClientCheck and the other programs of clients/java/src/test."""
        return CLIENT_BUILD / "test-classes"

    def classpath(self, *extra: Path) -> str:
        return ":".join(str(path) for path in (*extra, *self.client_classpath))

    def run(self, main: str, *args: str, extra: tuple[Path, ...] = (), timeout: float = 90,
            env: dict[str, str] | None = None) -> str:
        """Runs a Java main class (with `env` added to the environment); returns stdout, failing the test
        with stderr when it exits non-zero."""
        command = ["java", "-cp", self.classpath(*extra), main, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
        assert done.returncode == 0, f"{main} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done.stdout
