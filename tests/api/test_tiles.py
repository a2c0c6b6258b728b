"""PredictTiles against the real server: the class map of a checkerboard TIFF is the one the brightness
model must give, and Python (upload), OIP (server path) and the CLI (--json, --map) give the same map."""
import json
import os
import subprocess
import sys

import grpc
import numpy as np
import pytest
import tifffile
import tritonclient.grpc as tg

from bioclass.class_maps import ClassMap
from bioclass.images import array_to_tensor
from bioclass.v1 import classifier_pb2 as pb
from bioclass.v1 import classifier_pb2_grpc, image_pb2
from server_process import ServerProcess
from tile_images import BRIGHT, DARK, expected_labels, write_checkerboard_tiff

MODEL = "brightness-onnx"
SIDE, BLOCK, TILE, STRIDE = 2000, 400, 224, 112


@pytest.fixture(scope="module")
def checkerboard_tiff(tmp_path_factory):
    """Under the session server's data root (the pytest base temp folder)."""
    return write_checkerboard_tiff(tmp_path_factory.mktemp("tiles") / "board.tif", SIDE, SIDE, BLOCK)


@pytest.fixture(scope="module")
def uploaded(server, checkerboard_tiff):
    from bioclass.client import Client

    with Client(server.address) as client:
        result = client.predict_tiles(checkerboard_tiff, MODEL, tile=TILE, stride=STRIDE)
        tiles = list(result)
    return result, tiles


def test_the_map_is_the_checkerboard_tile_by_tile(uploaded):
    result, tiles = uploaded
    grid = result.grid
    assert (grid.image_height, grid.image_width, grid.tile_height, grid.stride) == (SIDE, SIDE, TILE, STRIDE)
    assert list(grid.row_origins) == [*range(0, SIDE - TILE + 1, STRIDE), SIDE - TILE]  # the last one at the edge
    assert grid.rows == grid.columns == 17 and len(tiles) == 17 * 17 and result.progress == (289, 289)
    assert [(t.row, t.column) for t in tiles] == [(r, c) for r in range(17) for c in range(17)]
    expected = expected_labels(grid.row_origins, grid.column_origins, TILE, BLOCK)
    assert (result.label_image() == expected).all()
    assert result.probabilities.shape == (2, 17, 17) and result.probabilities.dtype == np.float32
    whole = result.probabilities.reshape(2, -1).mean(axis=1)
    assert result.prediction.probabilities == pytest.approx(whole, abs=1e-5)
    assert result.tiles_classified == 289 and result.tiles_skipped == 0


def test_oip_and_cli_give_the_same_map(uploaded, server, checkerboard_tiff, tmp_path):
    result, _ = uploaded
    triton = tg.InferenceServerClient(server.address)
    try:
        answer = triton.infer(MODEL, [], parameters={"tile_size": TILE, "stride": STRIDE,
                                                     "server_path": str(checkerboard_tiff)})
    finally:
        triton.close()
    assert np.abs(answer.as_numpy("probability_map") - result.probabilities).max() < 1e-5
    assert answer.as_numpy("probabilities")[0] == pytest.approx(result.prediction.probabilities, abs=1e-5)
    assert answer.as_numpy("label")[0].decode() == result.prediction.label

    out = tmp_path / "map.tif"
    run = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "predict", str(checkerboard_tiff), "--model",
                          MODEL, "--tile", str(TILE), "--stride", str(STRIDE), "--json", "--map", str(out),
                          "--server", server.address], capture_output=True, text=True, timeout=120, env=os.environ)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 17 * 17 + 1
    cli_map = ClassMap(result.labels, 17, 17)
    for index, line in enumerate(lines[:-1]):
        row, column = divmod(index, 17)
        assert line["tile"] == [result.grid.row_origins[row], result.grid.column_origins[column], TILE, TILE]
        cli_map.add(row, column, [next(s["probability"] for s in line["top"] if s["label"] == label)
                                  for label in result.labels])
    assert np.abs(cli_map.probabilities - result.probabilities).max() < 1e-5
    assert lines[-1]["image"] == "board.tif" and lines[-1]["grid"] == [17, 17]
    assert lines[-1]["top"][0]["label"] == result.prediction.label
    assert np.abs(tifffile.imread(out) - result.probabilities).max() < 1e-5
    assert (tifffile.imread(tmp_path / "map-labels.tif") == result.label_image()).all()


def test_an_array_region_with_overlap_and_majority(client):
    image = np.full((60, 90, 3), DARK, np.uint8)
    image[:, 45:] = BRIGHT
    result = client.predict_tiles(image, MODEL, tile=20, stride=10, region=(5, 30, 40, 50),
                                  aggregation="majority").wait()
    grid = result.grid
    assert (grid.region.y, grid.region.x, grid.region.height, grid.region.width) == (5, 30, 40, 50)
    assert list(grid.row_origins) == [5, 15, 25] and list(grid.column_origins) == [30, 40, 50, 60]
    # The bright half starts at x 45: the tile at x 30 is mostly dark, the one at 40 mostly bright.
    assert (result.label_image() == np.array([[2, 1, 1, 1]] * 3)).all()
    assert result.prediction.probabilities == pytest.approx([0.75, 0.25])  # nine votes bright, three dark


def test_background_tiles_are_skipped_and_reported(client):
    image = np.full((64, 64, 3), 250, np.uint8)  # white background
    image[:32, :32] = 90  # one quarter of tissue, dark to the brightness model
    result = client.predict_tiles(image, MODEL, tile=32, skip_background=True).wait()
    assert (result.label_image() == np.array([[2, 0], [0, 0]])).all()
    assert np.isnan(result.probabilities[:, 1:, :]).all() and np.isnan(result.probabilities[:, 0, 1]).all()
    assert (result.tiles_classified, result.tiles_skipped) == (1, 3)
    assert result.prediction.label == "dark"
    assert result.prediction.probabilities == pytest.approx(result.probabilities[:, 0, 0].tolist())


def test_a_pyramid_level_and_a_planar_ome_tiff(client, tmp_path):
    planar = np.zeros((3, 64, 128), np.uint8)
    planar[:, :, 64:] = BRIGHT
    path = tmp_path / "pyramid.ome.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(planar, tile=(32, 32), subifds=1, metadata={"axes": "CYX"}, photometric="minisblack")
        tif.write(planar[:, ::2, ::2], tile=(32, 32), subfiletype=1, photometric="minisblack")
    full = client.predict_tiles(path, MODEL, tile=32).wait()
    assert (full.grid.image_height, full.grid.image_width) == (64, 128)
    assert (full.label_image() == np.array([[2, 2, 1, 1]] * 2)).all()
    half = client.predict_tiles(path, MODEL, tile=32, level=1).wait()
    assert (half.grid.image_height, half.grid.image_width) == (32, 64)
    assert (half.label_image() == np.array([[2, 1]])).all()


def tiles_error(server, *requests) -> grpc.RpcError:
    """The status of a raw PredictTiles call that must fail."""
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        with pytest.raises(grpc.RpcError) as failure:
            list(stub.PredictTiles(iter(requests), timeout=60))
    assert "\n" not in failure.value.details()
    return failure.value


def header(**fields) -> pb.PredictTilesRequest:
    fields.setdefault("model_id", MODEL)
    return pb.PredictTilesRequest(header=pb.PredictTilesHeader(**fields))


@pytest.mark.parametrize("options, code, words", [
    (pb.TileOptions(tile_size=5000), "INVALID_ARGUMENT", "tile_size is 5000, above the server's bound of 4096"),
    (pb.TileOptions(tile_size=16, stride=5000), "INVALID_ARGUMENT", "stride is 5000"),
    (pb.TileOptions(tile_size=16, stride=17), "INVALID_ARGUMENT", "stride 17 is larger than the tile"),
    (pb.TileOptions(region=pb.Region(y=50, x=0, height=20, width=10)), "INVALID_ARGUMENT",
     "reaches outside the image of 40x60"),
    (pb.TileOptions(region=pb.Region(y=0, x=0, height=0, width=10)), "INVALID_ARGUMENT", "is empty"),
    (pb.TileOptions(tile_size=1, stride=1), "RESOURCE_EXHAUSTED", "makes 2400 tiles"),
    (pb.TileOptions(aggregation=7), "INVALID_ARGUMENT", "unknown aggregation"),
    (pb.TileOptions(top_k=5000), "INVALID_ARGUMENT", "top_k is 5000"),
])
def test_bad_options_get_precise_statuses(tiles_server, options, code, words):
    image = image_pb2.Image(tensor=array_to_tensor(np.zeros((60, 40, 3), np.uint8)))
    error = tiles_error(tiles_server, header(image=image, options=options))
    assert error.code().name == code and words in error.details()


def test_bad_sources_get_precise_statuses(tiles_server, checkerboard_tiff, tmp_path):
    def fails(code: str, words: str, *requests):
        error = tiles_error(tiles_server, *requests)
        assert error.code().name == code and words in error.details(), error.details()

    fails("PERMISSION_DENIED", "under its data roots", header(server_path="/etc/passwd"))
    escape = tmp_path / "escape.tif"  # a link under the root to a file outside it
    escape.symlink_to("/etc/passwd")
    fails("PERMISSION_DENIED", "under its data roots", header(server_path=str(escape)))
    fails("NOT_FOUND", "there is no file", header(server_path=str(checkerboard_tiff) + ".missing"))
    fails("INVALID_ARGUMENT", "is a folder", header(server_path=str(checkerboard_tiff.parent)))
    fails("NOT_FOUND", "no-such-model", header(model_id="no-such-model", server_path=str(checkerboard_tiff)))
    fails("INVALID_ARGUMENT", "series 3 requested", header(server_path=str(checkerboard_tiff), series=3))
    fails("INVALID_ARGUMENT", "no image", header())
    fails("INVALID_ARGUMENT", "must be the header", pb.PredictTilesRequest(chunk=b"II*\x00"))
    fails("RESOURCE_EXHAUSTED", "declares 2000000 bytes", header(upload=pb.FileUpload(size=2_000_000)))
    fails("INVALID_ARGUMENT", "sent no bytes", header(upload=pb.FileUpload()))
    fails("INVALID_ARGUMENT", "SHA-256", header(upload=pb.FileUpload(sha256="0" * 64)),
          pb.PredictTilesRequest(chunk=checkerboard_tiff.read_bytes()))
    fails("INVALID_ARGUMENT", "declared 10 bytes but 4 arrived", header(upload=pb.FileUpload(size=10)),
          pb.PredictTilesRequest(chunk=b"abcd"))
    fails("INVALID_ARGUMENT", "not a PNG, JPEG, TIFF or BMP", header(upload=pb.FileUpload()),
          pb.PredictTilesRequest(chunk=b"not an image at all"))
    fails("INVALID_ARGUMENT", "of the TIFF file", header(upload=pb.FileUpload(), options=pb.TileOptions(tile_size=500)),
          pb.PredictTilesRequest(chunk=checkerboard_tiff.read_bytes()[:5000]))
    assert not list((tiles_server.work_dir / "uploads").iterdir())  # every spooled upload is removed


@pytest.fixture(scope="module")
def tiles_server(test_zoo, tmp_path_factory):
    """A server that takes uploads up to 1 MB and maps of up to 1000 tiles; its data root is the pytest base
    temp folder."""
    process = ServerProcess("--zoo", str(test_zoo), "--no-builtin", "--data-root",
                            str(tmp_path_factory.getbasetemp()), work_dir=tmp_path_factory.mktemp("work"),
                            env={"BIOCLASS_MAX_IMAGE_UPLOAD_BYTES": "1000000", "BIOCLASS_MAX_MAP_TILES": "1000"})
    yield process
    process.stop()


def test_the_cli_tiles_every_image_of_a_folder_and_skips_what_it_cannot_read(server, tmp_path):
    """A folder as `predict` takes it: stray files are skipped with one line each, a broken image is
    refused by the server and skipped, and the good image is still mapped."""
    write_checkerboard_tiff(tmp_path / "good.tif", 448, 448, BLOCK)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    run = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "predict", str(tmp_path), "--model", MODEL,
                          "--tile", str(TILE), "--json", "--server", server.address],
                         capture_output=True, text=True, timeout=120, env=os.environ)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["image"] for line in lines if "grid" in line] == ["good.tif"]
    assert len([line for line in lines if "tile" in line]) == 4
    assert f"skipped {tmp_path / 'notes.txt'}: not an image" in run.stderr
    assert f"skipped {tmp_path / 'broken.png'}:" in run.stderr
    assert "bioclass: 1 classified, 2 skipped" in run.stderr
    assert run.returncode == 1
