"""PredictTiles messages <-> the service's tiled-prediction types."""
from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from bioclass.server.grpc.convert import prediction
from bioclass.server.service import TiledImage, TilesResult, Upload
from bioclass.server.tile_prediction import BackgroundSkip, TileGrid, TileOptions, TileResult, TileRow
from bioclass.v1 import classifier_pb2 as pb

AGGREGATIONS = {pb.TILE_AGGREGATION_UNSPECIFIED: "mean", pb.AGGREGATION_MEAN: "mean",
                pb.AGGREGATION_MAJORITY: "majority"}
_AGGREGATION_ENUM = {"mean": pb.AGGREGATION_MEAN, "majority": pb.AGGREGATION_MAJORITY}


def tile_options(message: pb.TileOptions) -> TileOptions:
    region = message.region
    skip = message.skip_background
    return TileOptions(
        tile_size=message.tile_size, stride=message.stride,
        region=(region.y, region.x, region.height, region.width) if message.HasField("region") else None,
        aggregation=AGGREGATIONS.get(message.aggregation, f"enum value {message.aggregation}"),
        top_k=message.top_k,
        skip=BackgroundSkip(skip.level or 0.8, skip.dark_background, skip.min_foreground or 0.05)
        if message.HasField("skip_background") else None)


def tiled_image(header: pb.PredictTilesHeader, chunks: AsyncIterator[bytes]) -> TiledImage:
    source = header.WhichOneof("source")
    return TiledImage(
        image=header.image if source == "image" else None,
        server_path=header.server_path,
        upload=Upload(chunks, header.upload.size, header.upload.sha256) if source == "upload" else None,
        name=header.name, series=header.series, level=header.level)


def grid(g: TileGrid) -> pb.PredictTilesResponse:
    return pb.PredictTilesResponse(grid=pb.TileGrid(
        name=g.name, model_id=g.model_id, image_height=g.image_size[0], image_width=g.image_size[1],
        region=_region(g.region), tile_height=g.tile[0], tile_width=g.tile[1], stride=g.stride[0],
        rows=g.rows, columns=g.columns, row_origins=g.row_origins, column_origins=g.column_origins,
        labels=g.labels, aggregation=_AGGREGATION_ENUM[g.aggregation]))


def row(r: TileRow, labels: tuple[str, ...], top_k: int) -> pb.PredictTilesResponse:
    return pb.PredictTilesResponse(row=pb.TileRow(row=r.row, tiles=[_tile(t, labels, top_k) for t in r.tiles],
                                                  tiles_done=r.done, tiles_total=r.total))


def summary(result: TilesResult) -> pb.PredictTilesResponse:
    return pb.PredictTilesResponse(summary=pb.TileSummary(prediction=prediction(result.prediction),
                                                          tiles_classified=result.classified,
                                                          tiles_skipped=result.skipped))


def _tile(t: TileResult, labels: tuple[str, ...], top_k: int) -> pb.TileResult:
    message = pb.TileResult(row=t.row, column=t.column, tile=_region((t.y, t.x, t.height, t.width)),
                            skipped=t.skipped, foreground=t.foreground)
    if not t.skipped:
        message.probabilities[:] = t.probabilities.tolist()
        for i in np.argsort(-t.probabilities, kind="stable")[:top_k]:
            message.top.add(label=labels[i], probability=float(t.probabilities[i]), index=int(i))
    return message


def _region(region: tuple[int, int, int, int]) -> pb.Region:
    y, x, height, width = region
    return pb.Region(y=y, x=x, height=height, width=width)
