"""`bioclass predict IMAGE --tile N`: tiled prediction, one line per tile, and the class map as TIFF files.

--map OUT.tif writes the probability map as a float32 TIFF, one page per class (in the model's label
order), one pixel per tile (NaN where a tile was skipped), and OUT-labels.tif beside it: a uint16
label image, 0 where a tile was skipped, else 1 + the index of the tile's top class.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from bioclass.cli.output import Progress
from bioclass.errors import BioclassError
from bioclass.folders import NOT_AN_IMAGE, Skipped, image_items, summary
from bioclass.messages import image_reason


def add_tile_arguments(predict) -> None:
    group = predict.add_argument_group("tiled prediction", "classify each image tile by tile at native scale")
    group.add_argument("--tile", type=int, default=None, metavar="PIXELS",
                       help="tile side; 0: the model's input size (any tile option turns tiling on)")
    group.add_argument("--stride", type=int, default=None, metavar="PIXELS", help="pixels between tiles "
                       "(default: the tile, no overlap)")
    group.add_argument("--region", default=None, metavar="Y,X,H,W", help="tile only this rectangle")
    group.add_argument("--aggregation", choices=["mean", "majority"], default=None,
                       help="whole-image answer: mean of tile probabilities (default) or majority vote")
    group.add_argument("--skip-background", action="store_true", default=None,
                       help="skip mostly white tiles (bright-field background)")
    group.add_argument("--map", default=None, metavar="OUT.tif", help="write the probability map (float32, one "
                       "page per class) and OUT-labels.tif (uint16: 0 skipped, else 1 + class index)")
    group.add_argument("--on-server", action="store_true", default=None,
                       help="IMAGE is a file on the server, under its data roots")


def wants_tiles(args) -> bool:
    return any(getattr(args, name) is not None for name in ("tile", "stride", "region", "aggregation",
                                                             "skip_background", "map", "on_server"))


def run_tiled(args, client) -> int:
    """Each image in tiles; folders are searched as `predict` searches them, and an image that cannot be
    read or that the server refuses is skipped with one line, the others still classified."""
    images, skipped = _tiled_images(args)
    if args.map and len(images) != 1:
        raise ValueError("--map writes the map of one image: give one IMAGE")
    for skip in skipped:
        print(f"bioclass: {skip.line()}", file=sys.stderr)
    refused = []
    for image in images:
        try:
            _classify_in_tiles(args, client, image)
        except BioclassError as exc:
            refused.append(Skipped(str(image), image_reason(exc.message), exc.message))
            print(f"bioclass: {refused[-1].line()}" + (f" ({exc.message})" if args.verbose else ""), file=sys.stderr)
    if len(images) + len(skipped) > 1 or refused:
        print(f"bioclass: {summary(len(images) - len(refused), skipped + refused)}", file=sys.stderr)
    return 1 if refused or any(s.reason != NOT_AN_IMAGE for s in skipped) else 0


def _tiled_images(args) -> tuple[list, list]:
    """The files to tile, each once (a multi-page TIFF is one image here), and the files skipped; a
    server path is the server's to check."""
    if args.on_server:
        return list(args.images), []
    found = image_items(args.images)
    return list(dict.fromkeys(path for path, _, _ in found.items)), found.skipped


def _classify_in_tiles(args, client, image) -> None:
    result = client.predict_tiles(image, args.model, tile=args.tile or 0, stride=args.stride or 0,
                                  region=_region(args.region), aggregation=args.aggregation or "mean",
                                  top_k=args.top, skip_background=bool(args.skip_background),
                                  on_server=bool(args.on_server))
    name = result.grid.name or str(image)
    progress = Progress(result.grid.rows * result.grid.columns, enabled=False if args.no_progress else None)
    for tile in result:
        progress.step()
        if args.json:
            print(json.dumps(tile.as_dict(name)), flush=True)
    progress.finish()
    _print_whole(result, name, args.json)
    if args.map:
        write_maps(Path(args.map), result.probabilities, result.label_image())


def _print_whole(result, name: str, as_json: bool) -> None:
    grid = result.grid
    if as_json:
        line = {**result.prediction.as_dict(), "image": name, "grid": [grid.rows, grid.columns],
                "tiles_classified": result.tiles_classified, "tiles_skipped": result.tiles_skipped}
        print(json.dumps(line), flush=True)
        return
    ranked = ", ".join(f"{s.label} {s.probability:.3f}" for s in result.prediction.top) or "every tile skipped"
    print(f"{name}: {ranked} ({grid.rows}x{grid.columns} tiles of {grid.tile_width}x{grid.tile_height}, "
          f"{result.tiles_skipped} skipped)", flush=True)


def write_maps(out: Path, probabilities: np.ndarray, labels: np.ndarray) -> Path:
    """OUT.tif (float32 pages, one per class) and OUT-labels.tif (uint16); returns the label file's path."""
    from PIL import Image as PILImage

    pages = [PILImage.fromarray(np.ascontiguousarray(page, np.float32)) for page in probabilities]
    pages[0].save(out, save_all=True, append_images=pages[1:])
    label_path = labels_path(out)
    PILImage.fromarray(labels.astype(np.uint16)).save(label_path)
    print(f"bioclass: map written to {out} and {label_path}", file=sys.stderr)
    return label_path


def labels_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}-labels{out.suffix or '.tif'}")


def _region(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 4 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--region takes Y,X,HEIGHT,WIDTH (four whole numbers); got {text!r}")
    y, x, height, width = (int(p) for p in parts)
    return y, x, height, width
