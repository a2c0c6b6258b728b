"""The py4j gateway's tiled prediction (what Py4jBioclassClient.predictTiles calls) against the real
server: one JSON answer with the Python client's map, and bad options refused in one line."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mosaic_support import COLUMNS, MODEL, ROWS, mosaic


@pytest.fixture
def gateway(client):
    from bioclass.py4j_gateway import GatewayEntryPoint

    return GatewayEntryPoint(client)


def test_one_answer_holds_grid_rows_and_summary(gateway, client):
    field = mosaic()
    answer = json.loads(gateway.predictTilesTensor(MODEL, "uint8", *field.shape, field.tobytes(), "field",
                                                   '{"tile": 50, "region": [0, 0, 300, 400], "top_k": 1}'))
    python = client.predict_tiles(field, MODEL, tile=50).wait()
    assert (answer["grid"]["row_origins"], answer["grid"]["region"]) == (list(range(0, 300, 50)), [0, 0, 300, 400])
    assert [(row["row"], row["tiles_done"], len(row["tiles"])) for row in answer["rows"]] == [
        (r, (r + 1) * COLUMNS, COLUMNS) for r in range(ROWS)]
    probabilities = np.array([[tile["probabilities"] for tile in row["tiles"]] for row in answer["rows"]])
    np.testing.assert_allclose(probabilities.transpose(2, 0, 1), python.probabilities, atol=1e-6, rtol=0)
    assert answer["summary"]["prediction"]["top"][0]["label"] == python.prediction.label
    assert answer["summary"]["tiles_classified"] == ROWS * COLUMNS


@pytest.mark.parametrize("options", ["[]", '{"tiles": 50}'])
def test_options_that_are_not_the_gateways_are_refused_in_one_line(gateway, options):
    error = json.loads(gateway.predictTilesTensor(MODEL, "uint8", 8, 8, 0, bytes(64), "x", options))["error"]
    assert (error["code"], error["message"]) == (
        "INVALID_ARGUMENT", "tile options must be a JSON object of aggregation, region, skip_background, stride, "
                            "tile, top_k")


@pytest.mark.parametrize("options, message", [
    ('{"tile": -1}', "tile must be a whole number, 0 or more; got -1"),
    ('{"stride": 2.5}', "stride must be a whole number, 0 or more; got 2.5"),
    ('{"top_k": true}', "top_k must be a whole number, 0 or more; got True"),
])
def test_a_bad_number_is_invalid_argument(gateway, options, message):
    error = json.loads(gateway.predictTilesTensor(MODEL, "uint8", 8, 8, 0, bytes(64), "x", options))["error"]
    assert (error["code"], error["message"]) == ("INVALID_ARGUMENT", message)
