"""AutoML commands: `bioclass automl DATASET_DIR --budget MINUTES` with a live leaderboard, and automl-runs."""
from __future__ import annotations

import sys

from bioclass.cli.output import number, table

LEADERBOARD_ROWS = 10


def add_automl_commands(command) -> None:
    automl = command("automl", run_automl, "Search architectures and hyperparameters within a time budget, then "
                                          "serve the best model in fp32 and int8.")
    automl.add_argument("dataset", metavar="DATASET_DIR", help="ROOT/<class>/<image>, or a .zip/.tar archive")
    automl.add_argument("--budget", type=float, required=True, metavar="MINUTES", help="wall-clock budget")
    automl.add_argument("--unlabeled", default="", metavar="DIR",
                        help="folder of unlabelled images inside the dataset (semi-supervised candidates)")
    automl.add_argument("--name", default="", metavar="MODEL_ID", help="id of the served model")
    automl.add_argument("--metric", default="", help="accuracy (default), balanced_accuracy, f1_macro, mcc, ...")
    automl.add_argument("--max-model-mb", type=float, default=0.0, help="largest model size in MB (default: no limit)")
    automl.add_argument("--max-latency-ms", type=float, default=0.0,
                        help="slowest prediction in ms per image (default: no limit)")
    automl.add_argument("--arch", action="append", default=[], help="candidate architecture (repeatable)")
    automl.add_argument("--image-size", type=int, action="append", default=[],
                        help="candidate input size (repeatable; default: from the dataset's profile)")
    automl.add_argument("--tiling", action="append", default=[], choices=["none", "native"],
                        help="candidate (repeatable): native-scale tiles of the input size, or the whole image resized")
    automl.add_argument("--scale", action="append", default=[], metavar="MODE",
                        help="candidate intensity scaling (repeatable; range, percentile, zscore, minmax)")
    automl.add_argument("--page", type=int, action="append", default=[],
                        help="page of multi-page TIFFs read as a channel (repeatable, 0-based, in order)")
    automl.add_argument("--semi-supervised", action="append", default=[], metavar="MODE",
                        help="candidate mode (repeatable; none, data, model, model_data, *_iterative)")
    automl.add_argument("--group-pattern", default="", help="regex (RE2 syntax) with one group; a group stays "
                        "in one split")
    automl.add_argument("--seed", type=int, default=0, help="random seed of the search (default 0)")
    automl.add_argument("--threads", type=int, default=0, help="CPU threads per trial (default: all cores)")
    automl.add_argument("--overwrite", action="store_true", help="replace a served model with the same id")
    automl.add_argument("--ray", default="", metavar="ADDRESS",
                        help="run the trials as Ray Tune trials on the cluster whose head is at HOST:PORT")
    automl.add_argument("--on-server", action="store_true", help="DATASET_DIR is a folder on the server")
    automl.add_argument("--detach", action="store_true", help="print the run id and return at once")

    runs = command("automl-runs", run_runs, "List AutoML runs, or show one with its leaderboard.")
    runs.add_argument("run_id", nargs="?", default="", metavar="ID", help="run to show (default: list every run)")


def run_automl(args) -> int:
    from bioclass.client import Client

    options = {k: v for k, v in (("metric", args.metric), ("max_model_mb", args.max_model_mb),
                                 ("max_latency_ms", args.max_latency_ms), ("model_id", args.name),
                                 ("architectures", args.arch), ("image_sizes", args.image_size),
                                 ("semi_supervised_modes", args.semi_supervised), ("seed", args.seed),
                                 ("tilings", args.tiling), ("scales", args.scale), ("pages", args.page),
                                 ("threads", args.threads), ("overwrite", args.overwrite),
                                 ("ray_address", args.ray)) if v}
    with Client(args.server) as client:
        run = client.automl.start(args.dataset, args.budget, on_server=args.on_server, unlabelled_dir=args.unlabeled,
                                  group_pattern=args.group_pattern, **options)
        print(f"AutoML run {run.id} started ({args.budget:g} min)", file=sys.stderr)
        if args.detach:
            print(run.id)
            return 0
        shown_log, shown_board, shown_profile = 0, "", False
        for update in client.automl.watch(run.id):
            if update.HasField("profile") and not shown_profile:
                print(profile_text(update.profile), file=sys.stderr)
                shown_profile = True
            for line in update.log[shown_log:]:
                if not (shown_profile and line.startswith("dataset: ")):  # the table above says it
                    print(line, file=sys.stderr)
            shown_log = len(update.log)
            board = leaderboard(update)
            if board != shown_board and update.leaderboard:
                print(f"-- {update.elapsed_seconds:.0f} s --\n{board}", file=sys.stderr)
                shown_board = board
        run = client.automl.run(run.id)
    print_run(run)
    return 0 if run.model_id and run.exports else 1


def leaderboard(run, rows: int = LEADERBOARD_ROWS) -> str:
    from bioclass.automl import trial_state_name

    body = [[str(t.number), trial_state_name(t.state), t.architecture,
             " ".join(f"{k}={v}" for k, v in sorted(t.params.items())), estimate(t), f"{t.seconds:.0f}",
             t.note[:40]] for t in run.leaderboard[:rows]]
    return table(body, ["TRIAL", "STATE", "ARCH", "PARAMS", run.metric.upper() or "VALUE", "SECONDS", "NOTE"])


def profile_text(profile) -> str:
    """The dataset profile as a short table, printed before the search's lines."""
    def spread(s) -> str:
        return f"{s.min} / {s.median} / {s.max}"

    rows = [["images", str(profile.images)],
            ["classes", ", ".join(f"{c.label} {c.images}" for c in profile.classes)],
            ["imbalance", f"{profile.imbalance_ratio:.1f}:1"],
            ["height min/median/max", spread(profile.heights)], ["width min/median/max", spread(profile.widths)],
            ["bit depth", "/".join(map(str, profile.bit_depths))], ["channels", "/".join(map(str, profile.channels))],
            ["pages", "/".join(map(str, profile.pages))],
            ["exact duplicates", f"{profile.duplicate_images} ({profile.duplicates_across_classes} across classes)"]]
    return table(rows, ["DATASET", ""])
def estimate(trial) -> str:
    """The validation metric, with its spread over cross-validation folds when it has one."""
    if trial.folds > 1:
        return f"{number(trial.value)} ± {trial.value_sd:.3f} ({trial.folds}-fold)"
    return f"{number(trial.value)} ± {trial.value_sd:.3f}" if trial.value_sd else number(trial.value)


def print_run(run) -> None:
    from bioclass.training import state_name

    print(f"AutoML run {run.id}: {state_name(run.state)}" + (f" - {run.error}" if run.error else ""))
    print(f"  {run.elapsed_seconds:.0f} s of {run.request.budget_minutes * 60:.0f} s; {len(run.leaderboard)} trials;"
          f" best trial {run.best_trial}")
    if run.model_id and run.exports:
        print(f"  served as {run.model_id} (fp32 ONNX) and {run.int8_model_id} (int8: {run.quantization})")
        print(table([[e.format, f"{e.size_bytes / 1e6:.2f} MB", number(e.accuracy), number(e.ms_per_image, 2)]
                     for e in run.exports], ["FORMAT", "SIZE", "VAL ACCURACY", "MS/IMG"]))
    if run.leaderboard:
        print(leaderboard(run))


def run_runs(args) -> int:
    from bioclass.client import Client
    from bioclass.training import state_name

    with Client(args.server) as client:
        if args.run_id:
            print_run(client.automl.run(args.run_id))
            return 0
        runs = client.automl.runs()
    print(table([[r.id, state_name(r.state), f"{r.request.budget_minutes:g}", r.model_id, r.error[:60]] for r in runs],
                ["ID", "STATE", "BUDGET_MIN", "MODEL", "ERROR"]))
    return 0
