"""Tiled prediction on the client: the PredictTiles request and its answer as tiles and a class map.

    result = client.predict_tiles("slide.tif", model="malaria-cnn-onnx", tile=224)
    for tile in result:            # tiles as they arrive, row by row
        print(tile.y, tile.x, tile.label)
    result.probabilities           # numpy (classes, rows, columns) float32, NaN where skipped
    result.label_image()           # numpy (rows, columns) uint16: 0 skipped, else 1 + class index
    result.prediction              # the whole-image answer (a bioclass.client.Prediction)
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bioclass.class_maps import ClassMap, TilePlace
from bioclass.images import ImageSource, to_image
from bioclass.v1 import classifier_pb2 as pb

UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024
AGGREGATIONS = {"mean": pb.AGGREGATION_MEAN, "majority": pb.AGGREGATION_MAJORITY}


@dataclass
class Tile(TilePlace):
    probabilities: list[float] = field(default_factory=list)
    top: list = field(default_factory=list)  # LabelScore, best first
    skipped: bool = False
    foreground: float = 1.0

    @property
    def label(self) -> str:
        return self.top[0].label if self.top else ""

    def as_dict(self, image: str) -> dict:
        line = {"image": image, "tile": [self.y, self.x, self.height, self.width],
                "top": [{"label": s.label, "probability": s.probability} for s in self.top]}
        if self.skipped:
            line["skipped"] = True
        return line

    @classmethod
    def from_message(cls, message: pb.TileResult) -> "Tile":
        from bioclass.client import LabelScore

        t = message.tile
        return cls(message.row, message.column, t.y, t.x, t.height, t.width, list(message.probabilities),
                   [LabelScore(s.label, s.probability, s.index) for s in message.top], message.skipped,
                   message.foreground)


class TiledPrediction:
    """The answer of one PredictTiles call, read as it streams: iterate for the tiles; `grid` is there
    from the first message, `probabilities`, `prediction` and the counts once every tile is in."""

    def __init__(self, responses: Iterator[pb.PredictTilesResponse], on_error):
        self._responses = responses
        self._on_error = on_error
        self.grid: pb.TileGrid | None = None
        self.map: ClassMap | None = None
        self.prediction = None  # bioclass.client.Prediction, after the last tile
        self.tiles_classified = self.tiles_skipped = 0
        self.progress = (0, 0)  # tiles done, tiles in all
        self._read_grid()

    def __iter__(self) -> Iterator[Tile]:
        for response in self._read():
            kind = response.WhichOneof("item")
            if kind == "row":
                self.progress = (response.row.tiles_done, response.row.tiles_total)
                for message in response.row.tiles:
                    self.map.add(message.row, message.column, message.probabilities)
                    yield Tile.from_message(message)
            elif kind == "summary":
                from bioclass.client import Prediction

                self.prediction = Prediction.from_message(response.summary.prediction)
                self.tiles_classified = response.summary.tiles_classified
                self.tiles_skipped = response.summary.tiles_skipped

    def wait(self) -> "TiledPrediction":
        """Read the whole answer; returns self."""
        for _ in self:
            pass
        return self

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.grid.labels)

    @property
    def probabilities(self) -> np.ndarray:
        """(classes, rows, columns) float32; NaN where a tile was skipped (or has not arrived yet)."""
        return self.map.probabilities

    def label_image(self) -> np.ndarray:
        """(rows, columns) uint16: 0 where a tile was skipped, else 1 + the index of its top class."""
        return self.map.label_image()

    def _read_grid(self) -> None:
        first = next(self._read(), None)
        if first is None or first.WhichOneof("item") != "grid":
            raise ValueError("the server's PredictTiles answer did not start with the grid")
        self.grid = first.grid
        self.map = ClassMap(self.grid.labels, self.grid.rows, self.grid.columns)

    def _read(self) -> Iterator[pb.PredictTilesResponse]:
        try:
            yield from self._responses
        except Exception as exc:  # noqa: BLE001 - the caller's handler turns an RpcError into a BioclassError
            raise self._on_error(exc) from None


def requests(image: ImageSource, model: str, options: pb.TileOptions, *, on_server: bool, name: str | None,
             series: int, level: int) -> Iterator[pb.PredictTilesRequest]:
    """The header, then the file in chunks when one is uploaded (read from disk a chunk at a time)."""
    header = pb.PredictTilesHeader(model_id=model, options=options, name=name or "", series=series, level=level)
    if on_server:
        header.server_path = str(image)
        yield pb.PredictTilesRequest(header=header)
    elif isinstance(image, (str, Path)):
        path = Path(image)
        header.upload.size, header.upload.sha256 = path.stat().st_size, _sha256(path)
        header.name = name or path.name
        yield pb.PredictTilesRequest(header=header)
        with open(path, "rb") as file:
            while chunk := file.read(UPLOAD_CHUNK_BYTES):
                yield pb.PredictTilesRequest(chunk=chunk)
    else:
        to_image(image, name, into=header.image)
        yield pb.PredictTilesRequest(header=header)


def options(tile: int, stride: int, region, aggregation: str, top_k: int, skip_background) -> pb.TileOptions:
    """TileOptions; `region` is (y, x, height, width); `skip_background` True (defaults) or a dict of
    BackgroundSkip's fields (level, dark_background, min_foreground)."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}; got {aggregation!r}")
    message = pb.TileOptions(tile_size=tile, stride=stride, aggregation=AGGREGATIONS[aggregation], top_k=top_k)
    if region is not None:
        y, x, height, width = region
        message.region.CopyFrom(pb.Region(y=y, x=x, height=height, width=width))
    if skip_background or skip_background == {}:
        message.skip_background.SetInParent()
        if isinstance(skip_background, dict):
            message.skip_background.MergeFrom(pb.BackgroundSkip(**skip_background))
    return message


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(UPLOAD_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
