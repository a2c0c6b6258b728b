"""Tiled classification of a layer's shown plane against the real server, without a viewer: the maps are
the Python client's, arrive row by row, and lie over the source layer."""
from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image, Labels

from mosaic_support import CELL, COLUMNS, LABELS, MODEL, ROWS, mosaic
from napari_bioclass.tiles import classify_tiles, map_layers, placement, tile_job, tiled_level


def run(generator):
    """The progress a worker would yield, and the generator's returned answer."""
    progress = []
    while True:
        try:
            progress.append(next(generator))
        except StopIteration as stop:
            return progress, stop.value


@pytest.fixture(scope="module")
def field() -> np.ndarray:
    return mosaic()


def test_maps_are_the_python_clients_and_progress_follows_the_rows(napari_client, field):
    layer = Image(field, rgb=True, name="field", scale=(0.5, 0.5), translate=(10, 20))
    job = tile_job(layer, (0.0, 0.0))
    progress, result = run(classify_tiles(napari_client, job, MODEL, tile=CELL, stride=CELL))
    assert progress == [((r + 1) * COLUMNS, ROWS * COLUMNS) for r in range(ROWS)]
    python = napari_client.predict_tiles(field, MODEL, tile=CELL, stride=CELL).wait()
    layers = map_layers(job, result, MODEL)
    assert [(options["name"], kind) for _, options, kind in layers] == [
        (f"field {LABELS[0]} ({MODEL})", "image"), (f"field {LABELS[1]} ({MODEL})", "image"),
        (f"field tile labels ({MODEL})", "labels")]
    np.testing.assert_allclose(np.stack([data for data, _, kind in layers if kind == "image"]), python.probabilities,
                               atol=1e-5, rtol=0)
    np.testing.assert_array_equal(layers[-1][0], python.label_image())
    assert layers[-1][1]["features"]["class"] == ["skipped", *LABELS]
    assert layers[0][1]["metadata"]["bioclass_tiles"]["tiles_classified"] == ROWS * COLUMNS


def test_maps_lie_over_the_source_layer(napari_client, field):
    layer = Image(field, rgb=True, name="field", scale=(0.5, 0.5), translate=(10, 20))
    job = tile_job(layer, (0.0, 0.0))
    _, result = run(classify_tiles(napari_client, job, MODEL, tile=CELL, stride=CELL))
    data, options, _ = map_layers(job, result, MODEL)[-1]
    labels = Labels(data, scale=options["scale"], translate=options["translate"])
    assert tuple(labels.scale) == (25.0, 25.0)  # a tile of 50 pixels of 0.5
    # The map's outer pixel edges are the image's: corner to corner, in world coordinates.
    for source_corner, map_corner in (((-0.5, -0.5), (-0.5, -0.5)),
                                      ((ROWS * CELL - 0.5, COLUMNS * CELL - 0.5), (ROWS - 0.5, COLUMNS - 0.5))):
        np.testing.assert_allclose(labels.data_to_world(map_corner), layer.data_to_world(source_corner))


def test_overlapping_tiles_are_centred_on_their_tiles():
    class Grid:  # the fields of a TileGrid that placement reads
        row_origins, column_origins, tile_height, tile_width, stride = [0, 25, 50], [0, 25], 50, 50, 25

    job = tile_job(Image(np.zeros((100, 75)), scale=(2, 2), translate=(1, 1)), (0.0, 0.0))
    where = placement(job, Grid)
    assert where.scale == (50, 50) and where.translate == (1 + 2 * 24.5, 1 + 2 * 24.5)


def test_a_pyramid_is_tiled_at_its_finest_level_under_the_pixel_bound():
    pyramid = Image([np.zeros((400, 400)), np.zeros((200, 200)), np.zeros((100, 100))], multiscale=True)
    assert tiled_level(pyramid) == 0
    assert tiled_level(pyramid, max_pixels=200 * 200) == 1
    assert tiled_level(pyramid, max_pixels=10) == 2  # none fits: the coarsest
    job = tile_job(pyramid, (0.0, 0.0), max_pixels=200 * 200)
    assert job.plane.shape == (200, 200) and job.scale == (2.0, 2.0)  # a pixel of level 1 is 2 of level 0
