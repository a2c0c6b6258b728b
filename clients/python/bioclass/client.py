"""The Python client: `Client("127.0.0.1:50051").predict(path_or_array, model=...)` and friends.

Needs only grpcio, protobuf, numpy and Pillow. Failed calls raise BioclassError subclasses
(NotFound, InvalidArgument, ...) carrying the server's status and message.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from bioclass.connection import open_channel
from bioclass.datasets import class_folder_samples
from bioclass.errors import from_rpc_error
from bioclass.images import ImageSource, to_image
from bioclass.v1 import classifier_pb2 as pb
from bioclass.v1 import classifier_pb2_grpc

DEFAULT_ADDRESS = "127.0.0.1:50051"
CHUNK_BYTES = 1024 * 1024


def default_address() -> str:
    return os.environ.get("BIOCLASS_SERVER") or DEFAULT_ADDRESS


@dataclass(frozen=True)
class LabelScore:
    label: str
    probability: float
    index: int


@dataclass(frozen=True)
class Prediction:
    """One classified image; `error` is set (and `top` empty) when the server could not classify it."""

    name: str
    model: str
    top: list[LabelScore] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str = ""
    error_code: str = ""
    explanation: object = None  # a bioclass.explanations.Explanation when one was asked for

    @property
    def label(self) -> str:
        return self.top[0].label if self.top else ""

    @property
    def probability(self) -> float:
        return self.top[0].probability if self.top else float("nan")

    def as_dict(self) -> dict:
        if self.error:
            return {"image": self.name, "model": self.model, "error": self.error, "code": self.error_code}
        return {"image": self.name, "model": self.model,
                "top": [{"label": s.label, "probability": s.probability} for s in self.top]}

    @classmethod
    def from_message(cls, message: pb.Prediction) -> "Prediction":
        t = message.timings
        explanation = None
        if message.HasField("explanation"):
            from bioclass.explanations import Explanation

            explanation = Explanation.from_message(message.explanation)
        return cls(name=message.name, model=message.model_id,
                   top=[LabelScore(s.label, s.probability, s.index) for s in message.top],
                   probabilities=list(message.probabilities),
                   timings_ms={"decode": t.decode_ms, "preprocess": t.preprocess_ms, "queue": t.queue_ms,
                               "inference": t.inference_ms, "total": t.total_ms},
                   explanation=explanation)


class Client:
    """A connection to a bioclass server. Use as a context manager or call close()."""

    def __init__(self, address: str | None = None, *, token: str | None = None, tls: bool | None = None,
                 ca_cert: str | None = None, client_cert: str | None = None, client_key: str | None = None,
                 timeout: float | None = 60.0, max_message_bytes: int = 64 * 1024 * 1024):
        """TLS is used when `tls` is true or a CA/client certificate is given; `token` (or $BIOCLASS_TOKEN)
        is sent as a bearer token. See bioclass.connection for the environment variables."""
        self.address = address or default_address()
        self.timeout = timeout
        self._channel, self._raw_channel = open_channel(
            self.address, token=token, tls=tls, ca_cert=ca_cert, client_cert=client_cert, client_key=client_key,
            max_message_bytes=max_message_bytes)
        self._stub = classifier_pb2_grpc.ClassifierStub(self._channel)

    # ---- catalogue -------------------------------------------------------------------------

    def frameworks(self) -> list[pb.Framework]:
        return list(self._call(self._stub.ListFrameworks, pb.ListFrameworksRequest()).frameworks)

    def models(self, framework: str = "", tags: Iterable[str] = (), *, versions: bool = False) -> list[pb.ModelSummary]:
        return list(self.list_models(framework, tags, versions=versions).models)

    def list_models(self, framework: str = "", tags: Iterable[str] = (), *, versions: bool = False
                    ) -> pb.ListModelsResponse:
        """Models (each one's default version, or every version) and the zoo problems the server met."""
        return self._call(self._stub.ListModels, pb.ListModelsRequest(framework=framework, tags=list(tags),
                                                                      versions=versions))

    def model(self, model_id: str) -> pb.ModelCard:
        """A model's card: `id` for its default version, `id@N` for version N."""
        return self._call(self._stub.GetModel, pb.GetModelRequest(model_id=model_id))

    def set_default_version(self, model_id: str, version: int) -> pb.ModelCard:
        """Make `version` what `model_id` alone names (kept across server restarts)."""
        return self._call(self._stub.SetDefaultVersion, pb.SetDefaultVersionRequest(model_id=model_id,
                                                                                    version=version))

    # ---- prediction ------------------------------------------------------------------------

    def predict(self, image: ImageSource, model: str, top_k: int = 5, *, name: str | None = None,
                page: int = 0, axes: str | None = None, explain: str | None = None) -> Prediction:
        """Classify one image: a file path, file bytes, a numpy array (axes yx, yxc or cyx) or a PIL image.

        With `explain` ("auto", "gradcam" or "occlusion"), `prediction.explanation` holds the saliency map.
        """
        request = pb.PredictRequest(model_id=model, top_k=top_k)
        to_image(image, name, page, axes, into=request.image)  # one copy of the pixels, not one per message
        if explain:
            from bioclass.explanations import options

            request.explain.CopyFrom(options(explain))
        return Prediction.from_message(self._call(self._stub.Predict, request).prediction)

    def explain(self, image: ImageSource, model: str, target: str | int | None = None, method: str = "auto", *,
                window: int = 0, stride: int = 0, name: str | None = None, page: int = 0,
                axes: str | None = None):
        """A saliency map (bioclass.explanations.Explanation) for the predicted class, or `target`
        (a label or label index); `window` and `stride` tune occlusion (network-input pixels)."""
        from bioclass.explanations import Explanation, options

        request = pb.ExplainRequest(model_id=model, options=options(method, target, window, stride))
        to_image(image, name, page, axes, into=request.image)
        response = self._call(self._stub.Explain, request)
        return Explanation.from_message(response.explanation, Prediction.from_message(response.prediction))

    def predict_many(self, images: Iterable[ImageSource], model: str, top_k: int = 5) -> Iterator[Prediction]:
        """Classify many images over one stream, lazily and in order; failures come back with `error` set.

        Items may also be (source, name) or (source, name, page) tuples.
        """
        names: list[str] = []

        def requests():
            for item in images:
                source, name, page = (tuple(item) + (None, 0))[:3] if isinstance(item, tuple) else (item, None, 0)
                request = pb.PredictRequest(model_id=model, top_k=top_k)
                names.append(to_image(source, name, page, into=request.image).name)
                yield request

        try:
            for response in self._stub.PredictStream(requests()):
                if response.WhichOneof("result") == "error":
                    yield Prediction(name=names[response.index], model=model, error=response.error.message,
                                     error_code=response.error.code)
                else:
                    yield Prediction.from_message(response.prediction)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def predict_tiles(self, image: ImageSource, model: str, *, tile: int = 0, stride: int = 0,
                      region: tuple[int, int, int, int] | None = None, aggregation: str = "mean", top_k: int = 5,
                      skip_background: bool | dict = False, on_server: bool = False, name: str | None = None,
                      series: int = 0, level: int = 0):
        """Classify an image tile by tile at native scale (bioclass.tiled.TiledPrediction): iterate it for
        the tiles as they arrive, then read its class map and whole-image `prediction`.

        `image` is a file (uploaded in chunks; TIFF and OME-TIFF are read lazily by the server, so a
        slide of any size works), a numpy array or PIL image (sent in one message), or with `on_server`
        a path under the server's data roots. `tile` 0: the model's input size; `stride` 0: the tile;
        `region` (y, x, height, width); `aggregation` "mean" or "majority"; `skip_background` True or a
        dict (level, dark_background, min_foreground) skips background tiles; `series`/`level` pick a
        TIFF series and pyramid level.
        """
        from bioclass import tiled

        tile_options = tiled.options(tile, stride, region, aggregation, top_k, skip_background)
        requests = tiled.requests(image, model, tile_options, on_server=on_server, name=name, series=series,
                                  level=level)
        try:
            responses = self._stub.PredictTiles(requests, timeout=None)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return tiled.TiledPrediction(responses, _as_bioclass_error)

    # ---- evaluation and registration -------------------------------------------------------

    def evaluate(self, dataset_dir: str | Path, models: Iterable[str], top_k: int = 2, *,
                 on_server: bool = False) -> pb.EvaluateResponse:
        """Evaluate models on a class-per-folder dataset: streamed from here, or read by the server."""
        config = pb.EvaluateConfig(model_ids=list(models), top_k=top_k,
                                   dataset_dir=str(dataset_dir) if on_server else "")

        def requests():
            yield pb.EvaluateRequest(config=config)
            if not on_server:
                root = Path(dataset_dir)
                for path, label in class_folder_samples(root):
                    request = pb.EvaluateRequest(sample=pb.LabelledImage(label=label))
                    to_image(path, name=str(path.relative_to(root)), into=request.sample.image)
                    yield request

        return self._call(self._stub.Evaluate, requests(), timeout=None)

    def register_model(self, card: str | Path, weights: str | Path, *, overwrite: bool = False,
                       new_version: bool = False) -> pb.ModelCard:
        """Upload a model: a card (YAML text or file) and its weights file, streamed in chunks. With
        `new_version` an existing id keeps its versions and gains the next one (`id@N`)."""
        card_yaml = Path(card).read_text(encoding="utf-8") if _is_file(card) else str(card)
        data = Path(weights).read_bytes()
        header = pb.RegisterModelHeader(card_yaml=card_yaml, sha256=hashlib.sha256(data).hexdigest(),
                                        overwrite=overwrite, new_version=new_version)

        def requests():
            yield pb.RegisterModelRequest(header=header)
            for start in range(0, len(data), CHUNK_BYTES):
                yield pb.RegisterModelRequest(chunk=data[start:start + CHUNK_BYTES])

        return self._call(self._stub.RegisterModel, requests(), timeout=None)

    def export_bioimageio(self, model: str, out: str | Path | None = None) -> Path:
        """Write the model as a validated bioimage.io package (zip); returns its path."""
        data, file_name = bytearray(), ""
        try:
            for chunk in self._stub.ExportBioimageio(pb.ExportBioimageioRequest(model_id=model), timeout=None):
                data.extend(chunk.data)
                file_name = file_name or chunk.file_name
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        path = Path(out or file_name or f"{model}.bioimageio.zip")
        path.write_bytes(bytes(data))
        return path

    def import_bioimageio(self, package: str | Path, model_id: str = "", *, overwrite: bool = False) -> pb.ModelCard:
        """Serve a bioimage.io package (zip): streamed in chunks; returns the new model's card."""
        data = Path(package).read_bytes()
        header = pb.ImportBioimageioHeader(model_id=model_id, overwrite=overwrite,
                                           sha256=hashlib.sha256(data).hexdigest())

        def requests():
            yield pb.ImportBioimageioRequest(header=header)
            for start in range(0, len(data), CHUNK_BYTES):
                yield pb.ImportBioimageioRequest(chunk=data[start:start + CHUNK_BYTES])

        return self._call(self._stub.ImportBioimageio, requests(), timeout=None)

    @property
    def training(self):
        """The Training service (jobs, datasets, augmentation preview) over this connection."""
        from bioclass.training import TrainingClient

        return TrainingClient(self._channel, self.timeout)

    @property
    def automl(self):
        """The AutoML service (search, leaderboard, quantized best model) over this connection."""
        from bioclass.automl import AutoMLClient

        return AutoMLClient(self._channel, self.timeout)

    # ---- connection ------------------------------------------------------------------------

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the server accepts calls; raises Unavailable after `timeout` seconds."""
        try:
            grpc.channel_ready_future(self._raw_channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            from bioclass.errors import Unavailable

            raise Unavailable(f"no bioclass server at {self.address} (waited {timeout:g} s)") from None

    def _call(self, method, request, timeout: float | None | str = "default"):
        try:
            return method(request, timeout=self.timeout if timeout == "default" else timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def close(self) -> None:
        self._raw_channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _as_bioclass_error(exc: Exception) -> Exception:
    return from_rpc_error(exc) if isinstance(exc, grpc.RpcError) else exc


def _is_file(value: str | Path) -> bool:
    try:
        return "\n" not in str(value) and Path(value).is_file()
    except OSError:
        return False
