"""Tiled prediction over the Open Inference Protocol: ModelInfer with tiling parameters.

Parameters (on the request): `tile_size` and `stride` (int, 0: the model's input size / the tile),
`region` ("y,x,height,width"), `aggregation` ("mean" or "majority"), `skip_background` (bool) and
`server_path` (an image file under the server's data roots, instead of the `image` input). Any of
them turns tiling on. The one input is `image` [1, H, W, C] (or none with `server_path`); the
answer holds `probability_map` FP32 [classes, rows, columns] (NaN where a tile was skipped),
`probabilities` FP32 [1, classes] and `label` BYTES [1] for the whole image, and the grid as
response parameters (rows, columns, tile_height, tile_width, row_origins, column_origins).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bioclass.class_maps import ClassMap
from bioclass.errors import InvalidArgument
from bioclass.server.oip.dataplane import IMAGE_INPUT, check_images
from bioclass.server.service import ClassifierService, TiledImage, TilesResult
from bioclass.server.tile_prediction import BackgroundSkip, TileGrid, TileOptions, TileRow

OUTPUTS = ("probability_map", "probabilities", "label")
PARAMETERS = {"tile_size": int, "stride": int, "region": str, "aggregation": str, "skip_background": bool,
              "server_path": str}


@dataclass
class TiledInference:
    grid: TileGrid
    map: ClassMap
    result: TilesResult


def requested(parameters: dict) -> bool:
    return any(name in parameters for name in PARAMETERS)


def options(parameters: dict) -> TileOptions:
    values = {name: _typed(parameters, name, kind) for name, kind in PARAMETERS.items() if name in parameters}
    return TileOptions(tile_size=_count(values.get("tile_size", 0), "tile_size"),
                       stride=_count(values.get("stride", 0), "stride"),
                       region=_region(values["region"]) if "region" in values else None,
                       aggregation=values.get("aggregation", "mean"),
                       skip=BackgroundSkip() if values.get("skip_background") else None)


def image(parameters: dict, inputs: dict[str, np.ndarray], max_pixels: int) -> TiledImage:
    server_path = _typed(parameters, "server_path", str) if "server_path" in parameters else ""
    if server_path:
        if inputs:
            raise InvalidArgument("with server_path, the request carries no input tensor")
        return TiledImage(server_path=server_path)
    if list(inputs) != [IMAGE_INPUT]:
        raise InvalidArgument(f"tiled inference takes exactly one input, {IMAGE_INPUT!r} (raw pixels [1,H,W,C]), "
                              f"or a server_path parameter; got {sorted(inputs) or 'none'}")
    pixels = inputs[IMAGE_INPUT]
    check_images(pixels, max_pixels)
    if len(pixels) != 1:
        raise InvalidArgument(f"tiled inference classifies one image: {IMAGE_INPUT!r} must be [1,H,W,C]; got "
                              f"{list(pixels.shape)}")
    return TiledImage(pixels=pixels[0])


async def infer(service: ClassifierService, model_id: str, source: TiledImage, tile_options: TileOptions,
                ) -> TiledInference:
    grid = class_map = None
    async for item in service.predict_tiles(model_id, source, tile_options):
        if isinstance(item, TileGrid):
            grid, class_map = item, ClassMap(item.labels, item.rows, item.columns)
        elif isinstance(item, TileRow):
            for tile in item.tiles:
                class_map.add(tile.row, tile.column, tile.probabilities)
        else:
            return TiledInference(grid, class_map, item)
    raise RuntimeError("the tiled prediction ended without its summary")


def _typed(parameters: dict, name: str, kind: type):
    value = parameters[name]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidArgument(f"parameter {name!r} must be {'an integer' if kind is int else kind.__name__}; "
                              f"got {value!r}")
    return value


def _count(value: int, name: str) -> int:
    if value < 0:
        raise InvalidArgument(f"parameter {name!r} cannot be negative; got {value}")
    return value


def _region(text: str) -> tuple[int, int, int, int]:
    parts = text.split(",")
    if len(parts) != 4 or not all(p.strip().isdigit() for p in parts):
        raise InvalidArgument(f"parameter 'region' takes 'y,x,height,width' (four whole numbers); got {text!r}")
    y, x, height, width = (int(p) for p in parts)
    return y, x, height, width
