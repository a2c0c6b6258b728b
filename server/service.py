"""The transport-neutral classifier service: what every RPC does, without any gRPC types.

Servicers (our API, the Open Inference Protocol) decode their messages, call this layer and
encode the result. Errors are raised as BioclassError subclasses carrying their status.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import numpy as np

from bioclass import images
from bioclass.datasets import class_folder_samples
from bioclass.errors import BioclassError, InvalidArgument, NotFound
from bioclass.server import limits, measures, metrics, sandbox, tile_prediction, tiling
from bioclass.server.backends import FRAMEWORKS, FrameworkInfo
from bioclass.server.data_roots import server_file, server_folder
from bioclass.server.batching import BatchPolicy
from bioclass.server.cards import parse_card
from bioclass.server.explain import ExplainOptions, ExplanationResult
from bioclass.server.explain.explainer import Explainer
from bioclass.server.preprocess import decode_for
from bioclass.server.runner import Runner
from bioclass.server.settings import Settings
from bioclass.server.tile_prediction import TileGrid, TileOptions, TileRow
from bioclass.server.tile_sources import ArraySource, ImageSource, open_file
from bioclass.server.uploads import spooled
from bioclass.server.zoo import ModelZoo
from bioclass.v1 import image_pb2

# Raw tensors up to this size are read and preprocessed on the event loop: a trip to the pool costs
# more than the work (bench/README.md).
INLINE_TENSOR_BYTES = 1024 * 1024


@dataclass
class Timings:
    decode_ms: float = 0.0
    preprocess_ms: float = 0.0
    queue_ms: float = 0.0
    inference_ms: float = 0.0
    total_ms: float = 0.0


@dataclass
class PredictionResult:
    name: str
    model_id: str
    labels: tuple[str, ...]
    probabilities: np.ndarray
    top_k: int
    timings: Timings = field(default_factory=Timings)
    explanation: ExplanationResult | None = None  # when the caller asked for one

    def top(self) -> list[tuple[int, str, float]]:
        order = np.argsort(-self.probabilities, kind="stable")[: self.top_k]
        return [(int(i), self.labels[i], float(self.probabilities[i])) for i in order]


@dataclass(frozen=True)
class Upload:
    """An image file arriving in chunks after the request's header."""

    chunks: AsyncIterator[bytes]
    size: int = 0  # declared; 0: not declared
    sha256: str = ""


@dataclass(frozen=True)
class TiledImage:
    """Where the image of a tiled prediction comes from: one of `image`, `pixels`, `server_path`, `upload`."""

    image: image_pb2.Image | None = None
    pixels: np.ndarray | None = None  # (H, W[, C]), already checked
    server_path: str = ""
    upload: Upload | None = None
    name: str = ""
    series: int = 0  # TIFF series and pyramid level
    level: int = 0


@dataclass
class TilesResult:
    """The whole-image answer of a tiled prediction (its probabilities are empty when every tile was skipped)."""

    prediction: PredictionResult
    classified: int
    skipped: int


@dataclass
class EvaluationResult:
    evaluations: list[tuple[str, measures.Measures, float]]  # model id, measures, ms per image
    skipped: list[tuple[str, str]]


class ClassifierService:
    def __init__(self, settings: Settings):
        self.settings = settings
        batching = BatchPolicy.from_settings(settings)
        sandbox.configure(settings.sandbox_limits)
        self.zoo = ModelZoo(list(settings.zoo_dirs), settings.model_store, settings.inference_threads, batching,
                            memory_budget_mb=settings.memory_budget_mb)
        if settings.ray_address:
            from bioclass.server.ray import cluster  # Ray is imported only when the server is given a cluster

            cluster.connect(settings)
            self.zoo.make_runner = cluster.runner_factory(settings, batching)
        self.zoo.scan()
        # Lifecycle hooks for the other services on the port (called in the running event loop).
        self.on_start: list[Callable[[], None]] = []
        self.on_close: list[Callable[[], None]] = []
        # Decoding and preprocessing are CPU work: keep them off the event loop.
        self._cpu = ThreadPoolExecutor(max_workers=max(2, settings.inference_threads), thread_name_prefix="decode")
        self.explainer = Explainer(self.zoo.lifecycle)

    # ---- catalogue -------------------------------------------------------------------------

    def frameworks(self) -> list[tuple[FrameworkInfo, bool]]:
        """Each framework, and whether a model of it is loaded."""
        loaded = {r.card.framework for r in self.zoo.all_runners() if r.state == "LOADED"}
        return [(info, info.name in loaded) for info in FRAMEWORKS.values()]

    def models(self, framework: str = "", tags: list[str] | tuple[str, ...] = (),
               every_version: bool = False) -> list[Runner]:
        if framework and framework not in FRAMEWORKS:
            raise InvalidArgument(f"unknown framework {framework!r}; expected one of {', '.join(FRAMEWORKS)}")
        return self.zoo.select(framework, tags, every_version)

    def model(self, model_id: str) -> Runner:
        """`id` (its default version) or `id@N`."""
        if not model_id:
            raise InvalidArgument("model_id is required")
        return self.zoo.get(model_id)

    async def set_default_version(self, model_id: str, version: int) -> Runner:
        if not model_id or version < 1:
            raise InvalidArgument("set_default_version needs a model_id and a version from 1")
        return await self.zoo.set_default(model_id, version)

    # ---- prediction ------------------------------------------------------------------------

    async def predict(self, model_id: str, image: image_pb2.Image, top_k: int = 0,
                      explain: ExplainOptions | None = None) -> PredictionResult:
        """Classify one image; with `explain`, the result also carries a saliency map."""
        limits.check_top_k(top_k, self.settings)
        runner = self.model(model_id)
        if explain is not None:
            self.explainer.class_index(runner, explain)  # bad options fail before any work
            limits.check_occlusion(runner.card, explain, self.settings)
            if runner.card.tiling is not None:
                raise InvalidArgument(f"model {model_id} classifies tiles of each image; saliency maps are "
                                      "not available for tiled models")
        with runner.usage.held():
            return await self._predict(runner, image, top_k, explain)

    async def _predict(self, runner: Runner, image: image_pb2.Image, top_k: int,
                       explain: ExplainOptions | None) -> PredictionResult:
        started = time.perf_counter()
        with metrics.failures_counted(runner.card.id, "Predict"):
            if image.WhichOneof("data") == "tensor" and len(image.tensor.data) <= INLINE_TENSOR_BYTES:
                pixels, network_input, decode_ms, preprocess_ms = self._decode_and_prepare(image, runner.card)
            else:
                (pixels, network_input, decode_ms, preprocess_ms), _ = await self._run_cpu(
                    self._decode_and_prepare, image, runner.card)
        result = await self._infer(runner, network_input, image.name, top_k, started, decode_ms, preprocess_ms)
        if explain is not None:
            result.explanation = await self.explainer.explain(runner, network_input[0], result.probabilities,
                                                              pixels.shape[:2], explain)
            result.timings.total_ms = (time.perf_counter() - started) * 1000
        return result

    def _decode_and_prepare(self, image: image_pb2.Image, card) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Both CPU steps in one trip to the pool (each trip costs a thread hand-off)."""
        started = time.perf_counter()
        pixels = decode_for(image, card, self.settings.max_pixels)
        decoded = time.perf_counter()
        network_input = self.network_inputs(pixels, card)
        return pixels, network_input, (decoded - started) * 1000, (time.perf_counter() - decoded) * 1000

    async def explain(self, model_id: str, image: image_pb2.Image, options: ExplainOptions,
                      top_k: int = 0) -> PredictionResult:
        """Classify one image and explain the predicted (or the requested) class."""
        return await self.predict(model_id, image, top_k, options)

    async def infer_arrays(self, runner: Runner, method: str,
                           checked_input: Callable[[], tuple[np.ndarray, bool]]) -> np.ndarray:
        """Probabilities (B, K) for a batch of arrays (the Open Inference Protocol's path).

        `checked_input` checks the caller's tensors and returns the batch and whether it holds raw images
        [B, H, W, C], preprocessed here as the card says (inline when small, else in the pool), or already
        the network's input. What fails before the forward pass is counted as what fails in it is.
        """
        with runner.usage.held(), metrics.failures_counted(runner.card.id, method):
            batch, raw_images = checked_input()
            if raw_images:
                await runner.ensure_loaded()  # a model that cannot load fails before any preprocessing
                if batch.nbytes <= INLINE_TENSOR_BYTES:
                    per_image = self._images_inputs(batch, runner.card)
                else:
                    per_image, _ = await self._run_cpu(self._images_inputs, batch, runner.card)
                batch = np.concatenate(per_image)
        probabilities, _ = await runner.infer(batch, method)
        if not raw_images:
            return probabilities
        ends = np.cumsum([len(inputs) for inputs in per_image])[:-1]  # each image's answer from its tiles
        return np.stack([tiling.aggregate(rows, runner.card) for rows in np.split(probabilities, ends)])

    def _images_inputs(self, images: np.ndarray, card) -> list[np.ndarray]:
        return [self.network_inputs(image, card) for image in images]

    async def _infer(self, runner: Runner, network_input: np.ndarray, name: str, top_k: int,
                     started: float, decode_ms: float, preprocess_ms: float) -> PredictionResult:
        await runner.ensure_loaded()
        queued = time.perf_counter()
        probabilities, inference_ms = await runner.infer(network_input)
        waited_ms = (time.perf_counter() - queued) * 1000 - inference_ms
        labels = runner.card.labels
        timings = Timings(decode_ms, preprocess_ms, max(0.0, waited_ms), inference_ms,
                          (time.perf_counter() - started) * 1000)
        k = min(top_k or self.settings.top_k, len(labels))
        return PredictionResult(name, runner.card.id, labels, tiling.aggregate(probabilities, runner.card), k, timings)

    def network_inputs(self, pixels: np.ndarray, card) -> np.ndarray:
        """(T, ...) network inputs of one image: its tiles when the card tiles it, else T = 1."""
        return tiling.network_inputs(pixels, card, self.settings.max_tiles)

    async def predict_tiles(self, model_id: str, image: TiledImage, options: TileOptions,
                            ) -> AsyncIterator[TileGrid | TileRow | TilesResult]:
        """The grid, then each row of tiles in order, then the whole-image answer (server/tile_prediction.py)."""
        started = time.perf_counter()
        runner = self.model(model_id)
        tile_prediction.check_options(options, self.settings)
        # Held from the start: the memory budget never stops a model while its tiles are being read.
        with runner.usage.held():
            async with self._tile_source(image) as (source, name, decode_ms):
                grid = tile_prediction.plan((source.height, source.width), runner.card, options, self.settings,
                                            name)
                yield grid
                tally = tile_prediction.Tally(len(runner.card.labels), options.aggregation)
                with metrics.failures_counted(runner.card.id, "PredictTiles"):
                    async for row in tile_prediction.classify(grid, source, runner, options.skip, self._run_cpu,
                                                              tally):
                        yield row
        timings = Timings(decode_ms + tally.read_ms, tally.preprocess_ms, 0.0, tally.inference_ms,
                          (time.perf_counter() - started) * 1000)
        prediction = PredictionResult(name, runner.card.id, runner.card.labels, tally.probabilities(), grid.top_k,
                                      timings)
        yield TilesResult(prediction, tally.classified, tally.skipped)

    @asynccontextmanager
    async def _tile_source(self, image: TiledImage) -> AsyncIterator[tuple[ImageSource, str, float]]:
        """The image opened for reading by bands, its name and the milliseconds opening took; closed after."""
        if image.image is not None:
            pixels, decode_ms = await self._run_cpu(images.decode, image.image, self.settings.max_pixels)
            yield ArraySource(pixels), image.name or image.image.name, decode_ms
        elif image.pixels is not None:
            yield ArraySource(image.pixels), image.name, 0.0
        elif image.server_path:
            path = server_file(image.server_path, list(self.settings.data_roots), "server_path")
            async with self._opened(path, image) as (source, decode_ms):
                yield source, image.name or path.name, decode_ms
        elif image.upload is not None:
            upload = image.upload
            async with spooled(upload.chunks, upload.size, upload.sha256, self.settings.max_image_upload_bytes,
                               self.settings.work_dir / "uploads", self._run_thread) as path:
                async with self._opened(path, image) as (source, decode_ms):
                    yield source, image.name, decode_ms
        else:
            raise InvalidArgument("no image: send an image, a server_path or an upload")

    @asynccontextmanager
    async def _opened(self, path, image: TiledImage) -> AsyncIterator[tuple[ImageSource, float]]:
        source, decode_ms = await self._run_cpu(open_file, path, image.series, image.level, self.settings.max_pixels)
        try:
            yield source, decode_ms
        finally:
            source.close()

    async def _run_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._cpu, function, *args)

    async def predict_stream(self, requests: AsyncIterator[tuple[str, image_pb2.Image, int]],
                             ) -> AsyncIterator[tuple[int, PredictionResult | BioclassError]]:
        """Results in request order; per-image problems are yielded, an unknown model raises.

        Items may carry a fourth element, ExplainOptions, to attach a saliency map.
        """
        window = 2 * max(2, self.settings.inference_threads)
        pending: deque[asyncio.Task] = deque()

        async def one(model_id: str, image: image_pb2.Image, top_k: int,
                      explain: ExplainOptions | None = None) -> PredictionResult | BioclassError:
            try:
                return await self.predict(model_id, image, top_k, explain)
            except (NotFound, InvalidArgument) as exc:
                if isinstance(exc, NotFound) or not model_id:
                    raise
                return exc
            except BioclassError as exc:
                if exc.code.name == "FAILED_PRECONDITION":
                    raise
                return exc

        index = 0
        try:
            async for model_id, image, top_k, *explain in requests:
                self.model(model_id)  # fail fast on an unknown model
                limits.check_stream_length(index + len(pending) + 1, self.settings)
                pending.append(asyncio.ensure_future(one(model_id, image, top_k, *explain)))
                while len(pending) >= window:
                    yield index, await pending.popleft()
                    index += 1
            while pending:
                yield index, await pending.popleft()
                index += 1
        finally:
            for task in pending:
                task.cancel()
                task.add_done_callback(_read_outcome)

    # ---- evaluation ------------------------------------------------------------------------

    async def evaluate(self, model_ids: list[str], top_k: int, dataset_dir: str,
                       samples: AsyncIterator[tuple[image_pb2.Image, str]] | None) -> EvaluationResult:
        if not model_ids:
            raise InvalidArgument("evaluate needs at least one model id")
        limits.check_top_k(top_k, self.settings)
        names = list(dict.fromkeys(model_ids))  # as asked: `id`, or `id@N` to compare versions
        runners = [self.model(m) for m in names]
        labels = _shared_labels(runners)
        for runner in runners:
            await runner.ensure_loaded()
        if dataset_dir:
            samples = self._server_samples(dataset_dir)
        elif samples is None:
            raise InvalidArgument("give a dataset_dir or stream labelled images")
        collector = _EvaluationCollector(runners, labels, names)
        pending: deque[asyncio.Future] = deque()
        try:
            async for count, (image, label) in _numbered(samples):
                limits.check_stream_length(count, self.settings)
                pending.append(asyncio.ensure_future(self._evaluate_one(collector, image, label)))
                while len(pending) >= 2 * max(2, self.settings.inference_threads):
                    await pending.popleft()
            while pending:
                await pending.popleft()
        finally:
            await _abandon(pending)  # after a failure: the other images' work stops, and their errors are read
        if not collector.truth:
            raise InvalidArgument("no image of the dataset could be evaluated"
                                  + (f" (e.g. {collector.skipped[0][0]}: {collector.skipped[0][1]})"
                                     if collector.skipped else ""))
        return collector.result(top_k or self.settings.evaluation_top_k)

    async def _evaluate_one(self, collector: "_EvaluationCollector", image: image_pb2.Image, label: str) -> None:
        truth = collector.class_index(label)
        try:
            decoded: dict[tuple[int, ...], np.ndarray] = {}  # by the pages a model reads
            rows = []
            for runner in collector.runners:
                pages = runner.card.input.pages
                if pages not in decoded:
                    decoded[pages], _ = await self._run_cpu(decode_for, image, runner.card, self.settings.max_pixels)
                batch, preprocess_ms = await self._run_cpu(self.network_inputs, decoded[pages], runner.card)
                probabilities, inference_ms = await runner.infer(batch)
                compute_ms = preprocess_ms + inference_ms  # not queueing
                rows.append((tiling.aggregate(probabilities, runner.card), compute_ms))
        except (InvalidArgument, BioclassError) as exc:
            if exc.code.name not in ("INVALID_ARGUMENT", "RESOURCE_EXHAUSTED"):
                raise
            collector.skipped.append((image.name, exc.message))
            return
        collector.add(truth, rows)

    async def _server_samples(self, dataset_dir: str) -> AsyncIterator[tuple[image_pb2.Image, str]]:
        root = server_folder(dataset_dir, list(self.settings.data_roots), "dataset_dir")
        listing, _ = await self._run_cpu(class_folder_samples, root)  # a big folder takes seconds to walk
        for path, label in listing:
            image, _ = await self._run_cpu(images.to_image, path, str(path.relative_to(root)))
            yield image, label

    # ---- registration ----------------------------------------------------------------------

    async def register(self, card_yaml: str, weights: bytes, sha256: str, overwrite: bool,
                       new_version: bool = False) -> Runner:
        if not card_yaml:
            raise InvalidArgument("the first message must be a header with the card")
        if overwrite and new_version:
            raise InvalidArgument("overwrite replaces the default version and new_version adds one: choose one")
        limits.check_card(parse_card(card_yaml, "uploaded card"), self.settings)
        return await self.zoo.register(card_yaml, weights, sha256, overwrite, new_version)

    # ---- bioimage.io ------------------------------------------------------------------------

    async def export_bioimageio(self, model_id: str) -> tuple[bytes, str]:
        """The model as a validated bioimage.io package (zip bytes) and a file name for it."""
        from bioclass.server.bioimageio.export import export_package

        runner = self.model(model_id)
        await runner.ensure_loaded()
        return await export_package(runner, self._run_cpu)

    async def import_bioimageio(self, package: bytes, model_id: str, overwrite: bool, sha256: str = "") -> Runner:
        """Serve a bioimage.io package (zip bytes) as a new model; INVALID_ARGUMENT says what cannot be mapped."""
        from bioclass.server.bioimageio.importing import read_package

        (card_yaml, weights), _ = await self._run_cpu(read_package, package, model_id, sha256,
                                                      self.settings.allow_downloads)
        limits.check_card(parse_card(card_yaml, "imported card"), self.settings)
        return await self.zoo.register(card_yaml, weights, "", overwrite)

    # ---- helpers ---------------------------------------------------------------------------

    async def _run_cpu(self, function, *args):
        """Run CPU work in the pool; returns (result, milliseconds)."""
        def timed():
            started = time.perf_counter()
            return function(*args), (time.perf_counter() - started) * 1000

        return await asyncio.get_running_loop().run_in_executor(self._cpu, timed)

    def close(self) -> None:
        for hook in self.on_close:
            hook()
        self.explainer.close()
        self.zoo.close()
        self._cpu.shutdown(wait=False, cancel_futures=True)


async def _numbered(items: AsyncIterator) -> AsyncIterator:
    count = 0
    async for item in items:
        count += 1
        yield count, item


def _read_outcome(task: asyncio.Future) -> None:
    """Reads an abandoned task's error, which asyncio would otherwise log with a traceback."""
    if not task.cancelled():
        task.exception()


async def _abandon(tasks: deque[asyncio.Future]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _shared_labels(runners: list[Runner]) -> tuple[str, ...]:
    labels = runners[0].card.labels
    for runner in runners[1:]:
        if {name.lower() for name in runner.card.labels} != {name.lower() for name in labels}:
            raise InvalidArgument(f"models {runners[0].card.id} and {runner.card.id} have different labels "
                                  f"({', '.join(labels)} vs {', '.join(runner.card.labels)}); "
                                  "they cannot be compared on one dataset")
    return labels


class _EvaluationCollector:
    """Probabilities of every model for every evaluated image, in the first model's label order."""

    def __init__(self, runners: list[Runner], labels: tuple[str, ...], names: list[str] | None = None):
        self.names = names or [runner.card.id for runner in runners]
        self.runners = runners
        self.labels = labels
        self.index = {label.lower(): i for i, label in enumerate(labels)}
        # Column order that maps each model's output onto the shared label order.
        self.columns = [[[name.lower() for name in r.card.labels].index(label.lower()) for label in labels]
                        for r in runners]
        self.truth: list[int] = []
        self.rows: list[list[np.ndarray]] = [[] for _ in runners]
        self.ms: list[float] = [0.0 for _ in runners]
        self.skipped: list[tuple[str, str]] = []

    def class_index(self, label: str) -> int:
        index = self.index.get(label.lower())
        if index is None:
            raise InvalidArgument(f"dataset class {label!r} is not a label of the models "
                                  f"(labels: {', '.join(self.labels)})")
        return index

    def add(self, truth: int, rows: list[tuple[np.ndarray, float]]) -> None:
        self.truth.append(truth)
        for m, (probabilities, ms) in enumerate(rows):
            self.rows[m].append(probabilities[self.columns[m]])
            self.ms[m] += ms

    def result(self, top_k: int) -> EvaluationResult:
        truth = np.asarray(self.truth)
        evaluations = [(self.names[m], measures.compute(truth, np.stack(self.rows[m]), list(self.labels), top_k),
                        self.ms[m] / len(truth)) for m in range(len(self.runners))]
        return EvaluationResult(evaluations, self.skipped)
