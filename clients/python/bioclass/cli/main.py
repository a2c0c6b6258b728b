"""The `bioclass` command: serve, models, predict, evaluate, frameworks, register.

Errors print one line (`bioclass: error: ...`) and exit non-zero; never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bioclass.cli.output import Progress, number, table
from bioclass.errors import BioclassError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(server_settings=argv[:1] == ["serve"])  # the other commands need no server import
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except BioclassError as exc:
        report_error(exc, args)
        return 1
    except (OSError, ValueError) as exc:
        print(f"bioclass: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def report_error(exc: BioclassError, args) -> None:
    """One line in plain words with the next step; the status and server's message with --verbose.
    `serve` has no server to reach: its own errors are printed as they are."""
    from bioclass.messages import explain

    if not hasattr(args, "server"):
        print(f"bioclass: error: {exc}", file=sys.stderr)
        return
    message = explain(exc, args.server)
    print(f"bioclass: error: {message.text}", file=sys.stderr)
    if getattr(args, "verbose", False):
        print(f"bioclass: details: {message.details}", file=sys.stderr)


def build_parser(server_settings: bool = False) -> argparse.ArgumentParser:
    """With server_settings, `serve` also has a flag for every other server setting (serve_flags)."""
    from bioclass.client import default_address

    parser = argparse.ArgumentParser(prog="bioclass", description="Biomedical image classification server and client.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        if name not in ("serve", "weights"):  # these act on this machine
            sub.add_argument("--server", default=default_address(),
                             help="server address (default: $BIOCLASS_SERVER or 127.0.0.1:50051)")
            sub.add_argument("--verbose", action="store_true",
                             help="after an error, also print its status code and the server's message")
        return sub

    serve = command("serve", run_serve, "Run the server with the built-in model zoo (and any --zoo folders).")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 50051; 0 picks a free one)")
    serve.add_argument("--zoo", action="append", default=[], metavar="DIR", help="extra zoo folder (repeatable)")
    serve.add_argument("--no-builtin", action="store_true", help="do not serve the built-in zoo")
    serve.add_argument("--work-dir", default=None, help="writable folder for registered models and jobs")
    serve.add_argument("--max-pixels", type=int, default=None, help="largest image (width x height) accepted")
    serve.add_argument("--py4j-port", type=int, default=None, metavar="PORT",
                       help="also expose the API to Java (Fiji, QuPath, Icy) through a py4j gateway on PORT")
    serve.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                       help="serve Prometheus metrics on http://HOST:PORT/metrics (0 picks a free port)")
    serve.add_argument("--token-file", default=None, help="require the bearer token in this file "
                       "(or set BIOCLASS_TOKEN); clients send it from BIOCLASS_TOKEN")
    serve.add_argument("--admin-token-file", default=None, help="a second token, in this file (or set "
                       "BIOCLASS_ADMIN_TOKEN), that may also register and import models; clients send it as "
                       "BIOCLASS_TOKEN")
    serve.add_argument("--allow-uploads", action="store_true", default=None,
                       help="any caller the token admits may register and import models (uploaded models are "
                            "code); without any token, a server on a loopback address allows them anyway")
    serve.add_argument("--data-root", action="append", default=None, metavar="DIR",
                       help="clients may name datasets by server path under DIR (repeatable); without one, "
                            "server paths are refused")
    serve.add_argument("--allow-downloads", action="store_true", default=None,
                       help="bioimage.io import may fetch the URLs a package names")
    serve.add_argument("--read-only", action="store_true", default=None,
                       help="serve predictions, refuse uploads and training")
    serve.add_argument("--tls-cert", default=None, help="PEM certificate: serve TLS (with --tls-key)")
    serve.add_argument("--tls-key", default=None, help="PEM private key for --tls-cert")
    serve.add_argument("--tls-client-ca", default=None, help="require client certificates from this CA (mutual TLS)")
    serve.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                       help="serve each model as replicas on a Ray cluster and run AutoML trials there "
                            "(ADDRESS: HOST:PORT of its head; default: auto)")
    serve.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    if server_settings:
        add_setting_flags(serve)

    models = command("models", run_models, "List the models a server serves.")
    models.add_argument("--framework", default="", help="only models of this framework")
    models.add_argument("--tag", action="append", default=[], help="only models with this tag (repeatable)")
    models.add_argument("--json", action="store_true", help="one JSON object per model")
    models.add_argument("--versions", action="store_true", help="every version of each model (id@N), "
                        "not only its default")

    default = command("default-version", run_default_version, "Make one version of a model its default.")
    default.add_argument("model", help="model id")
    default.add_argument("version", type=int, help="version number")

    frameworks = command("frameworks", run_frameworks, "List the frameworks a server supports.")
    frameworks.add_argument("--json", action="store_true", help="one JSON object per framework")

    predict = command("predict", run_predict, "Classify images (files or folders), whole or tile by tile.")
    predict.add_argument("images", nargs="+", metavar="IMAGE_OR_DIR",
                         help="image files, or folders searched recursively (other files are skipped)")
    predict.add_argument("--model", required=True, help="model id")
    predict.add_argument("--top", type=int, default=3, help="labels to show per image (default 3)")
    predict.add_argument("--json", action="store_true", help="one JSON object per image and line")
    predict.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    from bioclass.cli.tiles import add_tile_arguments  # --tile, --stride, --map, ...

    add_tile_arguments(predict)

    evaluate = command("evaluate", run_evaluate, "Evaluate and compare models on a class-per-folder dataset.")
    evaluate.add_argument("dataset", metavar="DATASET_DIR", help="ROOT/<class>/<image>")
    evaluate.add_argument("--model", action="append", required=True, help="model id (repeat to compare)")
    evaluate.add_argument("--top", type=int, default=2, help="k of the top-k accuracy (default 2)")
    evaluate.add_argument("--on-server", action="store_true", help="DATASET_DIR is a folder on the server")
    evaluate.add_argument("--json", action="store_true", help="the whole evaluation as one JSON object")

    register = command("register", run_register, "Upload a model (card and weights) to a server.")
    register.add_argument("card", help="card.yaml")
    register.add_argument("weights", help="weights file")
    register.add_argument("--overwrite", action="store_true", help="replace a registered model with the same id")
    register.add_argument("--new-version", action="store_true", help="keep the registered model with the same id "
                          "and add this one as its next version (id@N), the default from now on")

    from bioclass.cli.training import add_training_commands  # train, jobs, job, cancel, augment-preview

    add_training_commands(command)

    from bioclass.cli.automl import add_automl_commands  # automl, automl-runs

    add_automl_commands(command)

    from bioclass.cli.bioimageio import add_bioimageio_commands  # export-bioimageio, import-bioimageio
    from bioclass.cli.explain import add_explain_commands  # explain

    add_explain_commands(command)
    add_bioimageio_commands(command)
    from bioclass.cli.weights import add_weights_commands  # weights pull, weights import

    add_weights_commands(command)
    return parser


# Settings with a flag of another name above, and the token, which a command line would show to `ps`.
_NAMED_ELSEWHERE = {"zoo_dirs": "--zoo", "ray_address": "--ray", "token": "--token-file",
                    "admin_token": "--admin-token-file", "data_roots": "--data-root"}


_SHORTER_FLAGS = {"memory_budget_mb": ("--memory-budget",)}  # --memory-budget MB reads as the issue wrote it


def add_setting_flags(serve: argparse.ArgumentParser) -> None:
    """A flag for each server setting that has none above, from the Settings class itself, so a new
    setting has its flag at once: --NAME VALUE (lists and mappings as JSON), --NAME / --no-NAME for a
    switch. Nothing is added where the server is not installed."""
    try:
        from bioclass.server.settings import Settings
    except ImportError:
        return
    group = serve.add_argument_group("server settings", "each also settable as BIOCLASS_<NAME>")
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if name in _NAMED_ELSEWHERE or flag in serve._option_string_actions:
            continue
        kind = str(field.annotation)
        if field.annotation is bool:
            group.add_argument(flag, dest=f"setting_{name}", action=argparse.BooleanOptionalAction, default=None,
                               help=_escaped(field.description))
        else:
            group.add_argument(flag, *_SHORTER_FLAGS.get(name, ()), dest=f"setting_{name}", default=None,
                               metavar=name.split("_")[-1].upper(),
                               type=json.loads if "list" in kind or "dict" in kind else str,
                               help=_escaped(field.description))


def _escaped(description: str | None) -> str | None:
    return description.replace("%", "%%") if description else description  # argparse formats help with %


def run_serve(args) -> int:
    import logging

    from bioclass.server.main import run

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    overrides = {key: value for key, value in (("host", args.host), ("port", args.port),
                                               ("work_dir", args.work_dir), ("max_pixels", args.max_pixels),
                                               ("metrics_port", args.metrics_port), ("token_file", args.token_file),
                                               ("read_only", args.read_only), ("tls_cert", args.tls_cert),
                                               ("tls_key", args.tls_key), ("tls_client_ca", args.tls_client_ca),
                                               ("ray_address", args.ray),
                                               ("admin_token_file", args.admin_token_file),
                                               ("allow_uploads", args.allow_uploads), ("data_roots", args.data_root),
                                               ("allow_downloads", args.allow_downloads))
                 if value is not None}
    overrides.update({key.removeprefix("setting_"): value for key, value in vars(args).items()
                      if key.startswith("setting_") and value is not None})
    return run(overrides, extra_zoos=[Path(z) for z in args.zoo], builtin=not args.no_builtin,
               py4j_port=args.py4j_port)


def _client(args):
    from bioclass.client import Client

    return Client(args.server)


def run_models(args) -> int:
    with _client(args) as client:
        response = client.list_models(args.framework, args.tag, versions=args.versions)
    if args.json:
        for m in response.models:
            print(json.dumps({"id": m.id, "version": m.version, "default": m.is_default, "name": m.name,
                              "framework": m.framework, "tags": list(m.tags), "labels": list(m.labels),
                              "state": _state_name(m.state), "error": m.error,
                              "memory_bytes": m.usage.memory_bytes, "last_used": m.usage.last_used,
                              "pinned": m.usage.pinned, "device": m.usage.device}))
        return 0
    rows = [[_model_name(m, args.versions), m.framework, _state_name(m.state), _memory(m.usage.memory_bytes),
             _last_use(m.usage.last_used), ", ".join(m.labels)] for m in response.models]
    print(table(rows, ["ID", "FRAMEWORK", "STATE", "MEMORY", "LAST USE", "LABELS"]))
    for problem in response.problems:
        print(f"problem: {problem.path}: {problem.reason}", file=sys.stderr)
    return 0


def run_frameworks(args) -> int:
    with _client(args) as client:
        frameworks = client.frameworks()
    if args.json:
        for f in frameworks:
            print(json.dumps({"name": f.name, "available": f.available, "version": f.version,
                              "formats": list(f.formats)}))
        return 0
    rows = [[f.name, "yes" if f.available else "no", f.version or "-", ", ".join(f.formats)] for f in frameworks]
    print(table(rows, ["FRAMEWORK", "INSTALLED", "VERSION", "FORMATS"]))
    return 0


def run_predict(args) -> int:
    """Classify every image; a file that is not an image or that the server refuses is skipped with
    one line on stderr, and a summary closes the run. Exit 1 when an image could not be classified."""
    from bioclass.cli.tiles import run_tiled, wants_tiles
    from bioclass.folders import NOT_AN_IMAGE, image_items, skipped_prediction, summary

    if wants_tiles(args):
        with _client(args) as client:
            return run_tiled(args, client)
    found = image_items(args.images)
    progress = Progress(len(found.items), enabled=False if args.no_progress else None)
    for skipped in found.skipped:
        progress.note(f"bioclass: {skipped.line()}")
    refused = []
    with _client(args) as client:
        for prediction in client.predict_many(found.items, args.model, args.top):
            progress.step()
            if args.json or not prediction.error:
                _print_prediction(prediction, args.json)
            if prediction.error:
                refused.append(skipped_prediction(prediction))
                detail = f" ({refused[-1].detail})" if args.verbose else ""
                progress.note(f"bioclass: {refused[-1].line()}{detail}")
    progress.finish()
    print(f"bioclass: {summary(len(found.items) - len(refused), found.skipped + refused)}", file=sys.stderr)
    unreadable = [s for s in found.skipped if s.reason != NOT_AN_IMAGE]  # stray files in a folder are no failure
    return 1 if refused or unreadable else 0


def _print_prediction(prediction, as_json: bool) -> None:
    if as_json:
        print(json.dumps(prediction.as_dict()), flush=True)
    else:
        ranked = ", ".join(f"{s.label} {s.probability:.3f}" for s in prediction.top)
        print(f"{prediction.name}: {ranked}", flush=True)


def run_evaluate(args) -> int:
    with _client(args) as client:
        response = client.evaluate(args.dataset, args.model, args.top, on_server=args.on_server)
    if args.json:
        from google.protobuf.json_format import MessageToDict

        print(json.dumps(MessageToDict(response, preserving_proto_field_name=True,
                                       always_print_fields_with_no_presence=True)))
        return 0
    print(_comparison_table(response.evaluations))
    for evaluation in response.evaluations:
        print(f"\n{evaluation.model_id}: per class")
        print(table([[c.label, number(c.precision), number(c.recall), number(c.f1), str(c.support), number(c.auroc)]
                     for c in evaluation.per_class], ["CLASS", "PRECISION", "RECALL", "F1", "SUPPORT", "AUROC"]))
        labels = list(evaluation.confusion.labels)
        counts = list(evaluation.confusion.counts)
        rows = [[label, *map(str, counts[i * len(labels):(i + 1) * len(labels)])] for i, label in enumerate(labels)]
        print(f"\n{evaluation.model_id}: confusion matrix (rows: true, columns: predicted)")
        print(table(rows, ["TRUE \\ PREDICTED", *labels]))
    for skipped in response.skipped:
        print(f"skipped {skipped.name}: {skipped.reason}", file=sys.stderr)
    return 0


def _comparison_table(evaluations) -> str:
    header = ["MODEL", "IMAGES", "ACC", "BAL_ACC", "PREC", "REC", "F1", "MCC", "KAPPA", "AUROC", "TOPK_ACC", "MS/IMG"]
    rows = [[e.model_id, str(e.images), *(number(v) for v in (e.accuracy, e.balanced_accuracy, e.precision_macro,
                                                               e.recall_macro, e.f1_macro, e.mcc, e.cohen_kappa,
                                                               e.auroc)),
             f"{number(e.top_k_accuracy)} (k={e.top_k})", number(e.ms_per_image, 2)] for e in evaluations]
    return table(rows, header)


def _model_name(summary, versions: bool) -> str:
    if not versions:
        return summary.id
    return f"{summary.id}@{summary.version}" + (" (default)" if summary.is_default else "")


def _memory(size: int) -> str:
    return f"{size / 2 ** 20:.0f} MiB" if size else "-"


def _last_use(when: float) -> str:
    if not when:
        return "never"
    seconds = max(0.0, time.time() - when)
    return f"{seconds:.0f} s ago" if seconds < 120 else (f"{seconds / 60:.0f} min ago" if seconds < 7200
                                                         else f"{seconds / 3600:.0f} h ago")


def run_register(args) -> int:
    with _client(args) as client:
        card = client.register_model(args.card, args.weights, overwrite=args.overwrite, new_version=args.new_version)
    print(f"registered {card.id}@{card.version} ({card.framework}) at {card.path}"
          + ("" if card.is_default else f"; the default stays another version of {card.id}"))
    return 0


def run_default_version(args) -> int:
    with _client(args) as client:
        card = client.set_default_version(args.model, args.version)
    print(f"{card.id} now names {card.id}@{card.version} (versions: {', '.join(str(v) for v in card.versions)})")
    return 0


def _state_name(state: int) -> str:
    from bioclass.v1 import classifier_pb2

    return classifier_pb2.ModelState.Name(state)


if __name__ == "__main__":
    sys.exit(main())
