"""A card's tiling block: Predict, the Open Inference Protocol and Evaluate give the answer of the
tiles computed by hand with the same (untiled) model, averaged."""
import numpy as np
import pytest
import tritonclient.grpc as tg
from PIL import Image

from bioclass.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from models import SIZE
from server_process import ServerProcess
from tiling_support import BANDS, banded, tiled_zoo

MAX_TILES = 6


@pytest.fixture(scope="module")
def tiled_server(test_zoo, tmp_path_factory):
    zoo = tiled_zoo(test_zoo, tmp_path_factory.mktemp("tiled-zoo"))
    process = ServerProcess("--zoo", str(zoo), "--no-builtin", work_dir=tmp_path_factory.mktemp("work"),
                            env={"BIOCLASS_MAX_TILES": str(MAX_TILES)})
    yield process
    process.stop()


@pytest.fixture
def tiled_client(tiled_server):
    from bioclass.client import Client

    with Client(tiled_server.address) as client:
        yield client


def by_hand(client, image: np.ndarray, starts: list[int]) -> np.ndarray:
    """Each tile through the untiled model, then their mean."""
    tiles = [image[:SIZE, x:x + SIZE] for x in starts]
    return np.mean([client.predict(tile, "untiled").probabilities for tile in tiles], axis=0)


def test_predict_and_oip_give_the_mean_of_the_tiles(tiled_client, tiled_server):
    image = banded(BANDS)
    expected = by_hand(tiled_client, image, [0, SIZE, 2 * SIZE])
    assert expected[0] > 0.6  # bright, by the tiles
    assert tiled_client.predict(image, "untiled").top[0].label == "dark"  # the shrunk whole field reads dark
    predicted = tiled_client.predict(image, "tiled")
    assert predicted.top[0].label == "bright"
    assert list(predicted.probabilities) == pytest.approx(expected, abs=1e-5)
    triton = tg.InferenceServerClient(tiled_server.address)
    try:
        batch = np.stack([image, banded((0.0, 0.0, 0.55))])
        tensor = tg.InferInput("image", list(batch.shape), "UINT8")
        tensor.set_data_from_numpy(batch)
        result = triton.infer("tiled", [tensor])
    finally:
        triton.close()
    assert [label.decode() for label in result.as_numpy("label")] == ["bright", "dark"]
    assert result.as_numpy("probabilities")[0] == pytest.approx(expected, abs=1e-5)


def test_the_last_tile_is_aligned_to_the_edge_and_a_small_image_is_one_tile(tiled_client):
    image = banded(BANDS, width=40)  # tiles at x = 0, 16 and 24 (the last one aligned to the right edge)
    expected = by_hand(tiled_client, image, [0, SIZE, 40 - SIZE])
    assert list(tiled_client.predict(image, "tiled").probabilities) == pytest.approx(expected, abs=1e-5)
    small = banded((0.55,), height=10, width=10)
    assert list(tiled_client.predict(small, "tiled").probabilities) == \
        pytest.approx(list(tiled_client.predict(small, "untiled").probabilities), abs=1e-6)


def test_evaluate_scores_the_tiled_answers(tiled_client, tmp_path):
    for label, values in (("bright", [BANDS, (0.9, 0.9, 0.9)]), ("dark", [(0.0, 0.0, 0.55), (0.1, 0.1, 0.1)])):
        (tmp_path / label).mkdir()
        for i, bands in enumerate(values):
            Image.fromarray(banded(bands)).save(tmp_path / label / f"{i}.png")
    response = tiled_client.evaluate(tmp_path, ["tiled", "untiled"])
    accuracy = {e.model_id: e.accuracy for e in response.evaluations}
    assert accuracy == {"tiled": 1.0, "untiled": 0.75}  # untiled reads the banded bright image as dark


def test_more_tiles_than_the_limit_are_resource_exhausted(tiled_client):
    with pytest.raises(ResourceExhausted, match=f"makes 8 tiles of 16x16 .* limit is {MAX_TILES} tiles"):
        tiled_client.predict(banded(BANDS, height=2 * SIZE, width=4 * SIZE), "tiled")


def test_a_tiled_model_has_no_saliency_map(tiled_client):
    with pytest.raises(InvalidArgument, match="saliency maps are not available for tiled models"):
        tiled_client.predict(banded(BANDS), "tiled", explain="occlusion")


def test_a_tiled_model_is_not_exported_as_a_whole_image_bioimageio_package(tiled_client, tmp_path):
    with pytest.raises(FailedPrecondition, match="model tiled tiles its images; a bioimage.io package cannot describe"):
        tiled_client.export_bioimageio("tiled", tmp_path / "tiled.zip")
