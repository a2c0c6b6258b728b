"""Issue 21's benchmark: every set, bioclass AutoML, AutoKeras and the features + random forest baseline,
on one fixed train/test split per set, scored on the test images no run saw.

    .venv/bin/python bench/automl_suite.py run [--sets ...] [--methods baseline autokeras bioclass]
                                               [--budgets 5 10] [--seeds 0 1 2] [--force]
    .venv/bin/python bench/automl_suite.py tables   # Markdown from the saved JSON (nothing is rerun)

Runs go one at a time, in the order sets x budgets x seeds x methods; each result is saved as
bench/work-automl/suite/<set>-<method>[-<budget>min]-s<seed>.json and is skipped when that file exists
(--force reruns; --tag NAME keeps bioclass rows of other code or options apart: ...-s<seed>-NAME.json;
--metric accuracy ranks bioclass trials by accuracy instead of the profile's choice). Sets and their
splits are bench/automl.py's (`dataset_folders`): the seed of a row is the tool's seed; the split is
always seed 0. Each row records the load average before and after it, and bioclass rows the commit of
the code that ran (with "+dirty" when the tree had changes).

- bioclass: `client.automl.start` on the real server (on_server, 2 threads per trial), the run's
  served model (fp32, and its int8 twin when one was built) evaluated by the server on the test folder.
  malaria's run also gets its unlabelled pool (semi-supervised candidates); jurkat's reads pages 0-1.
- AutoKeras 3.0: bench/autokeras_run.py in bench/.venv-autokeras, labelled images only, at AK_SIZE.
- baseline: bench/automl.py `baseline` (bioclass-texture features + a 500-tree random forest), no budget.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import automl as bench  # noqa: E402 - bench/automl.py, next to this file

SUITE = bench.WORK / "suite"
SETS = ("malaria", "wbc", "jurkat", "cric", "dapi", "fields")
METHODS = ("baseline", "autokeras", "bioclass")
# AutoKeras searches no input size: crops near their native size, the 320x256 dapi crops at 128 px,
# the 1280x1024 fields at 256 px.
AK_SIZE = {"malaria": 64, "wbc": 64, "jurkat": 40, "cric": 64, "dapi": 128, "fields": 256}
SEMI_MODES = ["none", "data", "model_data"]
PROFILE_METRIC = "from the profile"  # a row's metric when --metric was not given


def result_file(name: str, method: str, budget: float, seed: int, tag: str = "") -> Path:
    timed = "" if method == "baseline" else f"-{budget:g}min"
    return SUITE / f"{name}-{method}{timed}-s{seed}{'-' + tag if tag else ''}.json"


def commit() -> str:
    """The last commit that changed the product (server/, clients/), "+dirty" with uncommitted changes there."""
    head = subprocess.run(["git", "-C", str(bench.ROOT), "log", "-1", "--format=%h", "--", "server", "clients"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(bench.ROOT), "status", "--porcelain", "--", "server", "clients"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return head + ("+dirty" if dirty else "")


def run_baseline(name: str, budget: float, seed: int, metric: str = "") -> dict:
    return bench.baseline(SimpleNamespace(dataset=name, seed=seed))


def run_autokeras(name: str, budget: float, seed: int, metric: str = "") -> dict:
    train, test, _ = bench.dataset_folders(name, labelled_only=True)
    python = bench.ROOT / "bench" / ".venv-autokeras" / "bin" / "python"
    if not python.exists():
        raise SystemExit("bench/.venv-autokeras is missing: run bash bench/setup_autokeras.sh")
    out = SUITE / "autokeras-last.json"
    pages = [str(p) for p in bench.PAGES.get(name, ())]
    load_before = os.getloadavg()
    subprocess.run([str(python), str(bench.ROOT / "bench" / "autokeras_run.py"), "--train", str(train),
                    "--test", str(test), "--budget", str(budget), "--size", str(AK_SIZE[name]), "--seed", str(seed),
                    "--pages", *pages, "--work", str(bench.WORK / f"autokeras-{name}"), "--out", str(out)],
                   check=True)
    found = json.loads(out.read_text(encoding="utf-8"))
    return {**found, "accuracy": found.get("test_accuracy"), "balanced_accuracy": found.get("test_balanced_accuracy"),
            "load_average_before": load_before, "load_average_after": found["load_average"]}


def run_bioclass(name: str, budget: float, seed: int, metric: str = "") -> dict:
    from bioclass.client import Client

    train, test, unlabelled = bench.dataset_folders(name)
    shutil.rmtree(bench.WORK / "server" / "automl", ignore_errors=True)  # a stopped earlier run would resume
    code = commit()
    process = bench.server()
    load_before, started = os.getloadavg(), time.perf_counter()
    try:
        with Client(process.address, timeout=None) as client:
            run = client.automl.start(train, budget, on_server=True, unlabelled_dir=unlabelled, threads=2,
                                      model_id="bench-automl", overwrite=True, seed=seed,
                                      semi_supervised_modes=SEMI_MODES if unlabelled else [],
                                      pages=list(bench.PAGES.get(name, ())), metric=metric)
            run = client.automl.wait(run.id)
            wall = time.perf_counter() - started
            models = [m for m in (run.model_id, run.int8_model_id) if m]
            evaluations = client.evaluate(test, models).evaluations if models else []
    finally:
        process.stop()
    scores = {e.model_id: (e.accuracy, e.balanced_accuracy) for e in evaluations}
    fp32 = scores.get(run.model_id, (None, None))
    return {"tool": "bioclass", "commit": code, "dataset": name, "budget_min": budget, "seed": seed,
            "metric": metric or PROFILE_METRIC, "run_id": run.id, "state": run.state, "error": run.error,
            "unlabelled": bool(unlabelled),
            "accuracy": fp32[0], "balanced_accuracy": fp32[1], "scores": scores, "wall_s": wall,
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "best_trial": run.best_trial, "trials": [
                {"number": t.number, "state": t.state, "arch": t.architecture, "params": dict(t.params),
                 "value": t.value, "value_sd": t.value_sd, "folds": t.folds, "seconds": t.seconds, "note": t.note}
                for t in run.leaderboard],
            "log": list(run.log)}


RUNNERS = {"baseline": run_baseline, "autokeras": run_autokeras, "bioclass": run_bioclass}


def run(args) -> None:
    SUITE.mkdir(parents=True, exist_ok=True)
    for name in args.sets:
        for budget in args.budgets:
            for seed in args.seeds:
                for method in args.methods:
                    target = result_file(name, method, budget, seed, args.tag if method == "bioclass" else "")
                    if target.exists() and not args.force:
                        continue
                    if method == "baseline" and budget != args.budgets[0]:
                        continue  # no budget: once per seed
                    print(f"== {target.name} {time.strftime('%H:%M:%S')} load {os.getloadavg()}", flush=True)
                    started = time.perf_counter()
                    result = RUNNERS[method](name, budget, seed, args.metric if method == "bioclass" else "")
                    result.setdefault("wall_s", time.perf_counter() - started)
                    result.update(set=name, method=method, seed=seed, finished_utc=time.strftime("%Y-%m-%d %H:%M"),
                                  tag=args.tag if method == "bioclass" else "")
                    target.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
                    print(json.dumps({k: v for k, v in result.items() if k not in ("trials", "log")},
                                     default=str), flush=True)


def tables(args) -> list[str]:
    lines = ["| set | method | budget min | seed | accuracy | balanced accuracy | wall s | load before / after | "
             "code / note |", "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for path in sorted(SUITE.glob("*-s*.json"), key=_order):
        lines.append(_row(json.loads(path.read_text(encoding="utf-8"))))
    print("\n".join(lines))
    return lines


def _order(path: Path) -> tuple:
    found = json.loads(path.read_text(encoding="utf-8"))
    return (SETS.index(found["set"]), found.get("budget_min") or 0, found["seed"], METHODS.index(found["method"]),
            found.get("finished_utc", ""))


def _row(r: dict) -> str:
    def score(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    load = " / ".join("-" if not values else f"{values[0]:.1f}"  # the baseline records its end only
                      for values in (r.get("load_average_before"), r.get("load_average_after", r.get("load_average"))))
    budget = "-" if r["method"] == "baseline" else f"{r['budget_min']:g}"
    if r["method"] == "baseline":
        note = f"{r['train_images']} train images at {'x'.join(map(str, r['input_size']))} px"
    elif r["method"] == "autokeras":
        note = f"{r['size']} px, {len(r['trials'])} trials, search {r['search_s']:.0f} s, ended by {r['ended_by']}"
    else:
        asked = f", ranked by {r['metric']}" if r.get("metric", PROFILE_METRIC) != PROFILE_METRIC else ""
        note = (f"{r['commit']}{' (' + r['tag'] + ')' if r.get('tag') else ''}, run {r['run_id']}{asked}, "
                f"{_bioclass_note(r)}")
    return (f"| {r['set']} | {r['method']} | {budget} | {r['seed']} | {score(r.get('accuracy'))} | "
            f"{score(r.get('balanced_accuracy'))} | {r['wall_s']:.0f} | {load} | {note} |")


def _bioclass_note(r: dict) -> str:
    done = sum(1 for t in r["trials"] if t["state"] == 2)
    best = next((t for t in r["trials"] if t["number"] == r.get("best_trial")), {})
    state = "" if r["state"] == 3 else f"state {r['state']} {r.get('error', '')[:80]}, "
    return f"{state}{len(r['trials'])} trials ({done} complete), served {best.get('arch', '?')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("run")
    p.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--budgets", nargs="+", type=float, default=[5.0, 10.0], help="minutes")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--force", action="store_true", help="rerun rows whose JSON exists")
    p.add_argument("--tag", default="", help="appended to bioclass rows' file names (another branch's code)")
    p.add_argument("--metric", default="", help="bioclass ranks by this instead of the profile's choice (tag it)")
    sub.add_parser("tables")
    args = parser.parse_args()
    {"run": run, "tables": tables}[args.what](args)


if __name__ == "__main__":
    main()
