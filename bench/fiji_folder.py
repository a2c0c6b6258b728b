"""Classify Folder (bioclass) in ImageJ against `bioclass predict` on the same folder (issue 20).

    .venv/bin/python bench/fiji_folder.py [--images 1000] [--rounds 3]

One server (built-in zoo, malaria-cnn-onnx) serves both. The folder holds --images cells of
/work/shared/datasets/malaria-cells-50 (half of each class). Each side runs once to warm up (model
load, JIT), then --rounds times; the best round counts:
- **CLI**: the whole `bioclass predict FOLDER --model M --top 1 --no-progress` command (Python start-up
  included), and its core alone: `Client.predict_many` over the same files in this process.
- **Fiji**: `run("Classify Folder (bioclass)", ...)` timed by the macro itself (getTime around the
  command: opening every file with ImageJ, one stream, Results rows), in Debian's ImageJ under Xvfb in
  batch mode; ImageJ's own start-up is left out.
Needs plugins/imagej/build.sh (run first) and xvfb-run.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "java"))

from java_builds import IJ_JAR, IMAGEJ_SITE  # noqa: E402
from server_process import ServerProcess  # noqa: E402

from bioclass.client import Client  # noqa: E402

DATASET = Path("/work/shared/datasets/malaria-cells-50")
MODEL = "malaria-cnn-onnx"


def make_folder(target: Path, count: int) -> list[Path]:
    """count cells, half from each class, side by side in one flat folder."""
    target.mkdir()
    for label in ("Parasitized", "Uninfected"):
        for source in sorted((DATASET / label).glob("*.png"))[:count // 2]:
            shutil.copy(source, target / f"{label}_{source.name}")
    return sorted(target.iterdir())


def best_of(rounds: int, run) -> float:
    run()  # warm-up
    return min(run() for _ in range(rounds))


def cli_seconds(folder: Path, address: str) -> float:
    command = [str(Path(sys.executable).with_name("bioclass")), "predict", str(folder), "--model", MODEL,
               "--top", "1", "--no-progress", "--server", address]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def client_seconds(files: list[Path], address: str) -> float:
    with Client(address) as client:
        started = time.perf_counter()
        answered = sum(1 for _ in client.predict_many(files, MODEL, 1))
        elapsed = time.perf_counter() - started
    assert answered == len(files)
    return elapsed


def fiji_seconds(folder: Path, address: str, rounds: int, work: Path) -> float:
    """The macro times each Classify Folder run; the first is the warm-up."""
    macro = work / "bench.ijm"
    # Variable names steer clear of built-in macro functions (round, ...): a macro error opens a dialog.
    macro.write_text(f"for (pass = 0; pass <= {rounds}; pass++) {{\n"
                     f"  run(\"Clear Results\"); start = getTime();\n"
                     f"  run(\"Classify Folder (bioclass)\", \"server={address} folder=[{folder}] model={MODEL} top=1\");\n"
                     f"  print(\"round ms \" + (getTime() - start) + \" rows \" + nResults);\n}}\n")
    jars = sorted((IMAGEJ_SITE / "jars").glob("*.jar"))
    command = ["xvfb-run", "-a", "java", f"-Dplugins.dir={IMAGEJ_SITE}", "-cp", ":".join(map(str, [IJ_JAR, *jars])),
               "ij.ImageJ", "-batch", str(macro)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=120 + 2 * rounds * len(
        list(folder.iterdir())) / 100, cwd=work)
    rounds_ms = [float(line.split()[2]) for line in done.stdout.splitlines() if line.startswith("round ms ")]
    rows = {line.split()[4] for line in done.stdout.splitlines() if line.startswith("round ms ")}
    assert len(rounds_ms) == rounds + 1, done.stdout + done.stderr
    print(f"  Fiji rows per round: {sorted(rows)}")
    return min(rounds_ms[1:]) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (IMAGEJ_SITE / "plugins" / "bioclass_.jar").exists():
        sys.exit("build the plugin first: plugins/imagej/build.sh")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        files = make_folder(work / "cells", args.images)
        server = ServerProcess(work_dir=work / "server")
        try:
            cli = best_of(args.rounds, lambda: cli_seconds(work / "cells", server.address))
            print(f"  CLI done: {cli:.2f} s", flush=True)
            core = best_of(args.rounds, lambda: client_seconds(files, server.address))
            print(f"  CLI core done: {core:.2f} s", flush=True)
            fiji = fiji_seconds(work / "cells", server.address, args.rounds, work)
        finally:
            server.stop()
    count = len(files)
    print(f"{count} malaria cells, {MODEL}, best of {args.rounds} rounds after a warm-up")
    for name, seconds in (("bioclass predict (whole command)", cli), ("Client.predict_many (CLI core)", core),
                          ("Fiji Classify Folder", fiji)):
        print(f"  {name:34s} {seconds:6.2f} s  {count / seconds:7.0f} images/s")
    print(f"  Fiji / CLI command: {cli / fiji:.2f}x   Fiji / CLI core: {core / fiji:.2f}x (images/s ratios)")


if __name__ == "__main__":
    main()
