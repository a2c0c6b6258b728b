"""Tiled prediction: an image classified tile by tile at native scale, for a class map and a whole-image answer.

The grid follows server/tiling.py's rule (tiles every `stride` pixels, the last row and column
aligned to the region's edge). The image is read one band of tiles at a time (server/tile_sources.py);
each band's tiles are preprocessed off the event loop as the card says and go to the model as one
batch through its queue, where they merge with other callers' work. Per-image intensity statistics
(minmax, percentile, zscore) are taken per tile: the image is never whole in memory.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from bioclass.class_maps import TilePlace
from bioclass.errors import InvalidArgument, ResourceExhausted
from bioclass.server import limits
from bioclass.server.cards import ModelCard
from bioclass.server.preprocess import DTYPE_MAX, prepare_tiles
from bioclass.server.runner import Runner
from bioclass.server.settings import Settings
from bioclass.server.tile_sources import ImageSource
from bioclass.server.tiling import origins

AGGREGATIONS = ("mean", "majority")
# Batches being read, preprocessed or queued at once: enough that the model never waits for the
# reader, few enough that memory stays bounded (each holds one band and its network inputs).
CHUNKS_IN_FLIGHT = 4


@dataclass(frozen=True)
class BackgroundSkip:
    """A pixel is foreground when its intensity (0..1) is below `level` (above, on a dark background);
    a tile with a smaller share of foreground pixels than `min_foreground` is skipped."""

    level: float = 0.8
    dark_background: bool = False
    min_foreground: float = 0.05

    def foreground(self, tile: np.ndarray) -> float:
        intensity = tile.mean(axis=2) if tile.ndim == 3 else tile
        threshold = self.level * DTYPE_MAX.get(tile.dtype, 1.0)
        return float(np.mean(intensity > threshold if self.dark_background else intensity < threshold))


@dataclass(frozen=True)
class TileOptions:
    tile_size: int = 0  # 0: the card's tiling size, else the network's input size
    stride: int = 0  # 0: the tile size
    region: tuple[int, int, int, int] | None = None  # y, x, height, width; None: the whole image
    aggregation: str = "mean"
    top_k: int = 0
    skip: BackgroundSkip | None = None


@dataclass(frozen=True)
class TileGrid:
    name: str
    model_id: str
    image_size: tuple[int, int]
    region: tuple[int, int, int, int]
    tile: tuple[int, int]
    stride: tuple[int, int]
    row_origins: tuple[int, ...]
    column_origins: tuple[int, ...]
    labels: tuple[str, ...]
    aggregation: str
    top_k: int  # labels listed per tile and for the whole image

    @property
    def rows(self) -> int:
        return len(self.row_origins)

    @property
    def columns(self) -> int:
        return len(self.column_origins)


@dataclass
class TileResult(TilePlace):
    foreground: float = 1.0
    probabilities: np.ndarray | None = None  # None: skipped as background

    @property
    def skipped(self) -> bool:
        return self.probabilities is None


@dataclass
class TileRow:
    row: int
    tiles: list[TileResult]
    done: int
    total: int


@dataclass
class Tally:
    """The whole-image answer, accumulated tile by tile, and where the time went."""

    classes: int
    aggregation: str
    classified: int = 0
    skipped: int = 0
    read_ms: float = 0.0
    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    _sums: np.ndarray = field(init=False)

    def __post_init__(self):
        self._sums = np.zeros(self.classes, np.float64)

    def add(self, tile: TileResult) -> None:
        if tile.skipped:
            self.skipped += 1
            return
        self.classified += 1
        if self.aggregation == "majority":
            self._sums[int(np.argmax(tile.probabilities))] += 1
        else:
            self._sums += tile.probabilities

    def probabilities(self) -> np.ndarray:
        """(K,) float32; empty when every tile was skipped."""
        if not self.classified:
            return np.zeros(0, np.float32)
        return (self._sums / self.classified).astype(np.float32)


def check_options(options: TileOptions, settings: Settings) -> None:
    """The request's own numbers, before any upload is taken."""
    limits.check_top_k(options.top_k, settings)
    limits.check(options.tile_size, settings.max_tile_size, "tile_size", "max_tile_size")
    limits.check(options.stride, settings.max_tile_size, "stride", "max_tile_size")
    if options.aggregation not in AGGREGATIONS:
        raise InvalidArgument(f"unknown aggregation {options.aggregation!r}; expected one of {', '.join(AGGREGATIONS)}")
    skip = options.skip
    if skip is not None and not (math.isfinite(skip.level) and 0.0 <= skip.min_foreground <= 1.0):
        raise InvalidArgument(f"background skipping needs a finite level and min_foreground in [0, 1]; got "
                              f"level {skip.level}, min_foreground {skip.min_foreground}")


def plan(image_size: tuple[int, int], card: ModelCard, options: TileOptions, settings: Settings,
         name: str) -> TileGrid:
    """The grid of tiles over the requested region of an image of (height, width)."""
    region = _region(image_size, options.region)
    tile = (options.tile_size,) * 2 if options.tile_size else (card.tiling.size if card.tiling else card.input.size)
    stride = (options.stride,) * 2 if options.stride else tile
    if any(s > t for s, t in zip(stride, tile)):
        raise InvalidArgument(f"stride {options.stride} is larger than the tile ({tile[1]}x{tile[0]}): pixels "
                              "between tiles would never be classified")
    y, x, height, width = region
    tile = (min(tile[0], height), min(tile[1], width))  # a region smaller than a tile is one tile
    rows = [y + o for o in origins(height, tile[0], stride[0])]
    columns = [x + o for o in origins(width, tile[1], stride[1])]
    if len(rows) * len(columns) > settings.max_map_tiles:
        raise ResourceExhausted(f"a region of {width}x{height} makes {len(rows) * len(columns)} tiles of "
                                f"{tile[1]}x{tile[0]} (stride {stride[0]}); the server's limit is "
                                f"{settings.max_map_tiles} tiles (setting max_map_tiles): use a larger tile or "
                                "stride, or a smaller region")
    top_k = min(options.top_k or settings.top_k, len(card.labels))
    return TileGrid(name, card.id, image_size, region, tile, stride, tuple(rows), tuple(columns), card.labels,
                    options.aggregation, top_k)


def _region(image_size: tuple[int, int], region: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    height, width = image_size
    if region is None:
        return 0, 0, height, width
    y, x, h, w = region
    if not h or not w:
        raise InvalidArgument(f"the region (y {y}, x {x}, height {h}, width {w}) is empty")
    if y + h > height or x + w > width:
        raise InvalidArgument(f"the region (y {y}, x {x}, height {h}, width {w}) reaches outside the image of "
                              f"{width}x{height} (width x height)")
    return region


async def classify(grid: TileGrid, source: ImageSource, runner: Runner, skip: BackgroundSkip | None,
                   run_cpu: Callable[..., Awaitable], tally: Tally) -> AsyncIterator[TileRow]:
    """Each row of tiles, in order, as soon as its batches are back; `tally` gathers the whole-image answer."""
    await runner.ensure_loaded()  # a model that cannot load fails before the image is read
    batch = max(1, runner.max_batch_size)
    chunks = [(row, range(start, min(start + batch, grid.columns)))
              for row in range(grid.rows) for start in range(0, grid.columns, batch)]

    async def one(row: int, columns: range) -> list[TileResult]:
        (tiles, wanted, inputs, read_ms), total_ms = await run_cpu(_prepare, source, grid, runner.card, skip,
                                                                   row, columns)
        tally.read_ms += read_ms
        tally.preprocess_ms += total_ms - read_ms
        if wanted:
            probabilities, forward_ms = await runner.infer(inputs, "PredictTiles")
            tally.inference_ms += forward_ms
            for tile, tile_probabilities in zip(wanted, probabilities):
                tile.probabilities = tile_probabilities
        return tiles

    rows = _Rows(grid, tally)
    pending: deque[asyncio.Future] = deque()
    try:
        for chunk in chunks:
            pending.append(asyncio.ensure_future(one(*chunk)))
            if len(pending) >= CHUNKS_IN_FLIGHT and (row := rows.add(await pending.popleft())):
                yield row
        while pending:
            if row := rows.add(await pending.popleft()):
                yield row
    finally:  # a failure or a client that left: the other batches stop, their errors are read
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


class _Rows:
    """Batches back into rows: a row is complete when its last batch is back (batches finish in order)."""

    def __init__(self, grid: TileGrid, tally: Tally):
        self.grid, self.tally = grid, tally
        self.current: list[TileResult] = []
        self.done = 0

    def add(self, tiles: list[TileResult]) -> TileRow | None:
        self.current += tiles
        if len(self.current) < self.grid.columns:
            return None
        row, self.current = self.current, []
        for tile in row:
            self.tally.add(tile)
        self.done += len(row)
        return TileRow(row[0].row, row, self.done, self.grid.rows * self.grid.columns)


def _prepare(source: ImageSource, grid: TileGrid, card: ModelCard, skip: BackgroundSkip | None, row: int,
             columns: range) -> tuple[list[TileResult], list[TileResult], np.ndarray | None, float]:
    """The tiles of one batch, those to classify and their network inputs, and the read's milliseconds."""
    started = time.perf_counter()
    y, (height, width) = grid.row_origins[row], grid.tile
    xs = [grid.column_origins[c] for c in columns]
    band = source.read(y, xs[0], height, xs[-1] + width - xs[0])
    if band.dtype == np.float32 and not np.isfinite(band).all():
        raise InvalidArgument(f"the image holds NaN or infinite values in rows {y} to {y + height - 1}")
    read_ms = (time.perf_counter() - started) * 1000
    tiles = [TileResult(row, column, y, x, height, width,
                        skip.foreground(band[:, x - xs[0]:x - xs[0] + width]) if skip else 1.0)
             for column, x in zip(columns, xs)]
    wanted = [t for t in tiles if skip is None or t.foreground >= skip.min_foreground]
    inputs = prepare_tiles(band, [t.x - xs[0] for t in wanted], width, card) if wanted else None
    return tiles, wanted, inputs, read_ms
