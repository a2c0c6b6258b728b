"""Classical candidates on images larger than MAX_SIDE: features of native-scale tiles, averaged per image.

The two 1280x1024 16-bit DAPI fields (one per class), each cut in quadrants of 640x512: 8 images that the
classical job computes in 6 tiles of 256 px each. The exported card tiles, and the real server answers
Predict, Evaluate and OIP with the mean of the tiles' probabilities that the job's own features give.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tifffile

sys.path.insert(0, str(Path(__file__).parent))

from classical_support import TIFF16, oip_infer, run_job  # noqa: E402

MODEL = "fields-forest"
TILES_PER_IMAGE = 6  # 640x512 in 256-px tiles: columns at 0, 256, 384; rows at 0, 256


@pytest.fixture(scope="module")
def fields(tmp_path_factory) -> Path:
    """ROOT/<class>/q<n>.tif: the four 640x512 quadrants of each class's field."""
    root = tmp_path_factory.mktemp("fields") / "fields"
    for path in TIFF16:
        field = tifffile.imread(path)
        folder = root / path.name.split("_")[0]
        folder.mkdir(parents=True)
        height, width = field.shape[0] // 2, field.shape[1] // 2
        for n, (y, x) in enumerate((y, x) for y in (0, height) for x in (0, width)):
            tifffile.imwrite(folder / f"q{n}.tif", field[y:y + height, x:x + width])
    return root


@pytest.fixture(scope="module")
def tiled_job(fields, tmp_path_factory):
    """The classical job with the random forest alone: (plan, result, reporter)."""
    return run_job(fields, tmp_path_factory.mktemp("tiled-job"), "fields", MODEL, head_names=("random_forest",))


@pytest.fixture(scope="module")
def tiled_server(tiled_job, tmp_path_factory):
    from server_process import ServerProcess

    _, result, _ = tiled_job
    zoo = tmp_path_factory.mktemp("tiled-zoo")
    shutil.copytree(result["candidates"][0]["export_dir"], zoo / MODEL)
    process = ServerProcess("--no-builtin", "--zoo", str(zoo), work_dir=tmp_path_factory.mktemp("tiled-work"),
                            env={"BIOCLASS_INFERENCE_THREADS": "1"})
    yield process
    process.stop()


@pytest.fixture(scope="module")
def expected(tiled_job, fields):
    """(card, image paths, probabilities): each image's tiles through the job's features and its ONNX head."""
    from bioclass.images import decode_encoded
    from bioclass.server.cards import read_card
    from bioclass.server.classical import train

    _, result, _ = tiled_job
    folder = Path(result["candidates"][0]["export_dir"])
    card = read_card(folder)
    session = ort.InferenceSession(str(folder / card.weights), providers=["CPUExecutionProvider"])
    paths = sorted(fields.rglob("*.tif"))
    probabilities = []
    for path in paths:
        rows = train.feature_rows(decode_encoded(path.read_bytes(), 0, 50_000_000), card)
        assert len(rows) == TILES_PER_IMAGE
        tiles = session.run(["probabilities"], {session.get_inputs()[0].name: rows})[0]
        probabilities.append(tiles.mean(axis=0))
    return card, paths, np.stack(probabilities)


def test_large_images_are_computed_in_native_scale_tiles_and_validated_by_image(tiled_job):
    from bioclass.server.cards import read_card

    _, result, reporter = tiled_job
    card = read_card(Path(result["candidates"][0]["export_dir"]))
    assert card.tiling is not None and card.tiling.size == (256, 256) and card.tiling.aggregation == "mean"
    assert card.input.size == (256, 256) and card.input.channels == 1
    assert "images over 512 px: features of each native-scale tile of 256x256 px, averaged per image" in reporter.lines
    assert f"{8 * TILES_PER_IMAGE} tiles of 8 images" in reporter.lines
    # The folds hold out whole images: every image validated once, none counted per tile.
    assert result["validation"]["images"] == 8 and result["validation"]["validated"] == [1] * 8
    assert len(result["candidates"][0]["scores"]["accuracy"]) == result["validation"]["folds"] >= 2


def test_predict_and_evaluate_give_the_mean_of_the_tiles(tiled_server, expected):
    from bioclass.client import Client

    card, paths, probabilities = expected
    with Client(tiled_server.address) as client:
        for path, wanted in zip(paths, probabilities):
            prediction = client.predict(str(path), MODEL)
            assert prediction.probabilities == pytest.approx(list(wanted), abs=1e-5)
            assert prediction.label == card.labels[int(np.argmax(wanted))]
        (evaluation,) = client.evaluate(paths[0].parent.parent, [MODEL]).evaluations
    truth = np.array([card.labels.index(p.parent.name) for p in paths])
    assert evaluation.images == len(paths)
    assert evaluation.accuracy == pytest.approx(float(np.mean(probabilities.argmax(axis=1) == truth)), abs=1e-9)


def test_oip_gives_the_mean_of_the_tiles(tiled_server, expected):
    _, paths, probabilities = expected
    batch = np.stack([tifffile.imread(p)[..., None] for p in paths[:3]]).astype("<u2")
    result = oip_infer(tiled_server.address, MODEL, batch, "UINT16")
    np.testing.assert_allclose(result.as_numpy("probabilities"), probabilities[:3], atol=1e-5)


def test_a_feature_table_keeps_each_images_tiles_together():
    from bioclass.server.classical.train import FeatureTable

    per_image = [np.full((2, 3), 1.0), np.full((1, 3), 2.0), np.full((3, 3), 3.0)]
    table = FeatureTable.stacked(per_image, tiled=True)
    assert table.tiles.tolist() == [0, 0, 1, 2, 2, 2]
    rows = table.image_rows(np.array([2, 0]))
    assert rows.tolist() == [0, 1, 3, 4, 5]
    assert table.row_targets(np.array([5, 6, 7]), rows).tolist() == [5, 5, 7, 7, 7]
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4]])
    np.testing.assert_allclose(table.per_image(probabilities, rows, np.array([2, 0])), [[0.4, 0.6], [0.5, 0.5]])
    untiled = FeatureTable.stacked([np.ones((1, 3)), np.zeros((1, 3))], tiled=False)
    assert untiled.tiles is None and untiled.image_rows(np.array([1])).tolist() == [1]
