"""A py4j gateway for Java hosts (Fiji, QuPath, Icy) that can ship py4j's jar but not grpc-java.

Java calls the entry point over a local socket; every call is forwarded to the Python `Client` and
answered with a JSON string, so the Java side needs nothing but py4j. A failed call answers
`{"error": {"code": "NOT_FOUND", "message": "...", "text": "..."}}` instead of raising, so Java gets the
gRPC status name rather than a Python traceback, and in `text` the plain-words message with the next
step that the Python clients show (bioclass.messages). The Java side is
org.bioclass.client.Py4jBioclassClient.
Besides listing and classifying it explains (the map as base64 little-endian float32), classifies in
tiles (the whole answer in one call: grid, rows of tiles, summary) and trains on a server-side folder
(py4j has no streams: Java polls getJob to watch a job).

    python -m bioclass.py4j_gateway --port 25334 --server 127.0.0.1:50051

Java authenticates to the gateway with a random token the gateway writes to
~/.bioclass/py4j-<port>.token (mode 600; $BIOCLASS_PY4J_TOKEN_DIR moves it), which
Py4jBioclassClient reads by itself.

The gateway's own channel to the server takes the Python client's token and TLS settings:
--token-file, --tls-ca, --tls-cert, --tls-key, or BIOCLASS_TOKEN and BIOCLASS_TLS_* (see
bioclass.connection); the Java side only ever talks to the gateway on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import secrets
import threading
from pathlib import Path

import numpy as np
from py4j.clientserver import ClientServer, JavaParameters, PythonParameters

from bioclass.client import Client, Prediction, default_address
from bioclass.connection import read_token_file
from bioclass.errors import BioclassError, InvalidArgument

log = logging.getLogger("bioclass.py4j")
_DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "float32": np.dtype("<f4")}


class GatewayEntryPoint:
    """What Java sees (interface org.bioclass.client.Py4jEntryPoint); every method returns JSON."""

    def __init__(self, client: Client):
        self._client = client

    def _answer(self, call) -> str:
        return _answer(call, self._client.address)

    def listModels(self) -> str:  # noqa: N802 - Java naming, called from Java
        return self._answer(lambda: {"models": [_model_summary(m) for m in self._client.models()]})

    def getModel(self, model_id: str) -> str:  # noqa: N802
        return self._answer(lambda: _model_card(self._client.model(model_id)))

    def predictEncoded(self, model_id: str, data: bytes, name: str, top_k: int) -> str:  # noqa: N802
        return self._answer(lambda: _prediction(self._client.predict(bytes(data), model_id, top_k, name=name)))

    def predictTensor(self, model_id: str, dtype: str, height: int, width: int, channels: int,  # noqa: N802
                      data: bytes, name: str, top_k: int) -> str:
        """Raw little-endian pixels; channels 0 means a grayscale (y, x) image."""
        def predict():
            array = _pixels(dtype, height, width, channels, bytes(data))
            return _prediction(self._client.predict(array, model_id, top_k, name=name))

        return self._answer(predict)

    def explainEncoded(self, model_id: str, data: bytes, name: str, target: str,  # noqa: N802
                       method: str) -> str:
        return self._answer(lambda: _explanation(self._client.explain(bytes(data), model_id, target or None,
                                                                 method or "auto", name=name)))

    def explainTensor(self, model_id: str, dtype: str, height: int, width: int, channels: int,  # noqa: N802
                      data: bytes, name: str, target: str, method: str) -> str:
        def explain():
            array = _pixels(dtype, height, width, channels, bytes(data))
            return _explanation(self._client.explain(array, model_id, target or None, method or "auto", name=name))

        return self._answer(explain)

    def predictTilesEncoded(self, model_id: str, data: bytes, name: str, options: str) -> str:  # noqa: N802
        """options: JSON of TILE_OPTIONS (see _tiles); py4j has no streams, so the whole answer comes at once."""
        return self._answer(lambda: _tiles(self._client, bytes(data), model_id, name, options))

    def predictTilesTensor(self, model_id: str, dtype: str, height: int, width: int, channels: int,  # noqa: N802
                           data: bytes, name: str, options: str) -> str:
        return self._answer(lambda: _tiles(self._client, _pixels(dtype, height, width, channels, bytes(data)),
                                           model_id, name, options))

    def trainServerFolder(self, folder: str, settings: str) -> str:  # noqa: N802
        """settings: JSON with arch, epochs, image_size, model_id, overwrite, batch_size, learning_rate,
        threads, max_seconds (0 or empty: the server's default)."""
        def train():
            config = json.loads(settings)
            if not isinstance(config, dict):
                raise ValueError("settings must be a JSON object")
            arch = config.pop("arch", "")
            return {"job_id": self._client.training.train(folder, arch, on_server=True, **config)}

        return self._answer(train)

    def getJob(self, job_id: str) -> str:  # noqa: N802
        return self._answer(lambda: _job(self._client.training.job(job_id)))

    def cancelJob(self, job_id: str) -> str:  # noqa: N802
        return self._answer(lambda: _job(self._client.training.cancel(job_id)))

    class Java:
        implements = ["org.bioclass.client.Py4jEntryPoint"]


class Gateway:
    """A running gateway: `.port` is the port Java connects to; `stop()` closes it and its client.

    Java must present `.auth_token`, which the gateway leaves in `.auth_token_file` (readable by its
    owner only): other local users cannot borrow the gateway's server token or certificates.
    """

    def __init__(self, server: ClientServer, client: Client, auth_token: str):
        self._server = server
        self._client = client
        self.port: int = server.get_callback_server().get_listening_port()
        self.auth_token = auth_token
        self.auth_token_file = write_auth_token(self.port, auth_token)

    def stop(self) -> None:
        self._server.shutdown()
        self._client.close()
        self.auth_token_file.unlink(missing_ok=True)


def auth_token_path(port: int) -> Path:
    """Where the gateway on `port` leaves its auth token: $BIOCLASS_PY4J_TOKEN_DIR or ~/.bioclass."""
    folder = os.environ.get("BIOCLASS_PY4J_TOKEN_DIR") or Path.home() / ".bioclass"
    return Path(folder) / f"py4j-{port}.token"


def write_auth_token(port: int, auth_token: str) -> Path:
    path = auth_token_path(port)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a stale file may belong to someone else's mode; start afresh
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(auth_token + "\n")
    return path


def start_gateway(port: int, server_address: str, *, token: str | None = None, ca_cert: str | None = None,
                  client_cert: str | None = None, client_key: str | None = None) -> Gateway:
    """Serve the entry point on 127.0.0.1:`port` (0 picks a free port) in background threads; the
    connection settings go to the gateway's Client (unset ones come from the environment)."""
    logging.getLogger("py4j").setLevel(logging.WARNING)  # py4j logs every call at INFO
    client = Client(server_address, token=token, ca_cert=ca_cert, client_cert=client_cert, client_key=client_key)
    auth_token = secrets.token_urlsafe(32)
    server = ClientServer(
        java_parameters=JavaParameters(auto_convert=True, auth_token=auth_token),
        python_parameters=PythonParameters(address="127.0.0.1", port=port, daemonize=True,
                                           daemonize_connections=True, auth_token=auth_token),
        python_server_entry_point=GatewayEntryPoint(client))
    return Gateway(server, client, auth_token)


# ---- JSON answers ------------------------------------------------------------------------------

def _answer(call, address: str) -> str:
    """The call's result as JSON, or its error: status name, the server's message and, as `text`, the
    plain-words message with the next step that the Python clients show (bioclass.messages)."""
    from bioclass.messages import explain

    try:
        return json.dumps(call())
    except BioclassError as exc:
        failure = exc
    except (ValueError, TypeError) as exc:
        failure = InvalidArgument(" ".join(str(exc).split()))
    except Exception as exc:  # noqa: BLE001 - py4j would hand Java the traceback, paths and all
        log.exception("py4j call failed")
        failure = BioclassError(f"internal error: {type(exc).__name__}; the gateway's log has the details")
    return json.dumps({"error": {"code": failure.code.name, "message": failure.message,
                                 "text": explain(failure, address).text}})


def _pixels(dtype: str, height: int, width: int, channels: int, data: bytes) -> np.ndarray:
    if dtype not in _DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}: expected uint8, uint16 or float32")
    shape = (height, width, channels) if channels else (height, width)
    return np.frombuffer(data, dtype=_DTYPES[dtype]).reshape(shape)


def _model_summary(model) -> dict:
    return {"id": model.id, "name": model.name, "framework": model.framework, "labels": list(model.labels),
            "tags": list(model.tags), "description": model.description, "error": model.error}


def _model_card(card) -> dict:
    return {"id": card.id, "name": card.name, "framework": card.framework, "labels": list(card.output.labels),
            "tags": list(card.tags), "description": card.description, "error": card.error}


def _prediction(prediction: Prediction) -> dict:
    return {"name": prediction.name, "model": prediction.model,
            "top": [{"label": s.label, "probability": s.probability, "index": s.index} for s in prediction.top]}


def _explanation(explanation) -> dict:
    saliency = np.ascontiguousarray(explanation.saliency, dtype="<f4")
    return {"saliency": base64.b64encode(saliency.tobytes()).decode("ascii"), "height": int(saliency.shape[0]),
            "width": int(saliency.shape[1]), "method": explanation.method, "class_index": explanation.class_index,
            "class_label": explanation.class_label, "explain_ms": explanation.explain_ms,
            "prediction": _prediction(explanation.prediction)}


# What Java may set of Client.predict_tiles: region is [y, x, height, width]; skip_background false or an
# object of level, dark_background, min_foreground.
TILE_OPTIONS = {"tile", "stride", "region", "aggregation", "top_k", "skip_background"}


def _tiles(client: Client, image, model_id: str, name: str, options: str) -> dict:
    """The tiled prediction as JSON: the grid, the rows of tiles in order, and the summary."""
    settings = json.loads(options)
    if not isinstance(settings, dict) or set(settings) - TILE_OPTIONS:
        raise ValueError(f"tile options must be a JSON object of {', '.join(sorted(TILE_OPTIONS))}")
    for key in ("tile", "stride", "top_k"):
        value = settings.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key} must be a whole number, 0 or more; got {value!r}")
    if settings.get("region") is not None:
        settings["region"] = tuple(settings["region"])
    result = client.predict_tiles(image, model_id, name=name or None, **settings)
    rows: list[dict] = []
    for tile in result:
        if not rows or rows[-1]["row"] != tile.row:
            rows.append({"row": tile.row, "tiles": []})
        rows[-1]["tiles_done"], rows[-1]["tiles_total"] = result.progress
        rows[-1]["tiles"].append({"row": tile.row, "column": tile.column, "y": tile.y, "x": tile.x,
                                  "height": tile.height, "width": tile.width, "probabilities": tile.probabilities,
                                  "top": [{"label": s.label, "probability": s.probability, "index": s.index}
                                          for s in tile.top], "skipped": tile.skipped, "foreground": tile.foreground})
    return {"grid": _grid(result.grid), "rows": rows,
            "summary": {"prediction": _prediction(result.prediction), "tiles_classified": result.tiles_classified,
                        "tiles_skipped": result.tiles_skipped}}


def _grid(grid) -> dict:
    from bioclass.v1 import classifier_pb2 as pb

    region = grid.region
    return {"name": grid.name, "model_id": grid.model_id, "image_height": grid.image_height,
            "image_width": grid.image_width, "region": [region.y, region.x, region.height, region.width],
            "tile_height": grid.tile_height, "tile_width": grid.tile_width, "stride": grid.stride,
            "row_origins": list(grid.row_origins), "column_origins": list(grid.column_origins),
            "labels": list(grid.labels),
            "aggregation": "majority" if grid.aggregation == pb.AGGREGATION_MAJORITY else "mean"}


def _job(job) -> dict:
    from bioclass.v1 import training_pb2 as tpb

    progress = job.progress
    return {"id": job.id, "state": tpb.JobState.Name(job.state).removeprefix("JOB_STATE_").removeprefix("JOB_"),
            "stage": progress.stage, "epoch": progress.epoch, "epochs": progress.epochs, "step": progress.step,
            "steps": progress.steps, "loss": progress.loss, "eta_seconds": progress.eta_seconds,
            "error": job.error, "model_id": job.model_id, "log": list(job.log)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bioclass.py4j_gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=25334, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--server", default=None, help="bioclass server address (default $BIOCLASS_SERVER)")
    parser.add_argument("--token-file", default=None, help="file whose first non-empty line is the server's token "
                                                          "(default $BIOCLASS_TOKEN)")
    parser.add_argument("--tls-ca", default=None, help="PEM CA the server's certificate chains to: use TLS "
                                                      "(default $BIOCLASS_TLS_CA)")
    parser.add_argument("--tls-cert", default=None, help="PEM client certificate for mutual TLS ($BIOCLASS_TLS_CERT)")
    parser.add_argument("--tls-key", default=None, help="PEM key of --tls-cert ($BIOCLASS_TLS_KEY)")
    args = parser.parse_args(argv)
    token = read_token_file(args.token_file) if args.token_file else None
    gateway = start_gateway(args.port, args.server or default_address(), token=token, ca_cert=args.tls_ca,
                            client_cert=args.tls_cert, client_key=args.tls_key)
    print(f"bioclass py4j gateway on 127.0.0.1:{gateway.port}", flush=True)
    print(f"bioclass py4j gateway auth token in {gateway.auth_token_file}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        gateway.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
