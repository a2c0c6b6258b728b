"""TIFF bands read by decoding segments with tifffile directly are the bands tifffile's zarr store reads."""
import lzma
import tracemalloc
import zlib

import numpy as np
import pytest
import tifffile

from bioclass.errors import InvalidArgument
from bioclass.server.tile_sources import TiffSource

PIXELS = np.random.default_rng(0).integers(0, 65535, (300, 200, 3)).astype(np.uint16)
FILES = {  # tifffile.imwrite arguments
    "tiled": dict(data=PIXELS.astype(np.uint8), tile=(64, 48)),
    "striped": dict(data=PIXELS.astype(np.uint8), rowsperstrip=7),
    "compressed tiles, big-endian 16-bit": dict(data=PIXELS, tile=(64, 64), compression="zlib", byteorder=">"),
    "compressed strips, gray, predictor": dict(data=PIXELS[..., 0], rowsperstrip=16, compression="zlib",
                                               predictor=True),
    "float32 tiles, lzma": dict(data=PIXELS.astype(np.float32), tile=(32, 32), compression="lzma"),
    "one strip": dict(data=PIXELS.astype(np.uint8)),
}
# (y, x, height, width): the whole image, inside, across segment edges, the ragged last tile, one pixel
REGIONS = [(0, 0, 300, 200), (5, 7, 100, 150), (63, 47, 2, 2), (290, 190, 10, 10), (299, 0, 1, 1)]


def both(path, level=0):
    return TiffSource(path, 0, level, 10**8), TiffSource(path, 0, level, 10**8, direct=False)


@pytest.mark.parametrize("name", FILES)
def test_the_direct_and_the_zarr_path_read_identical_bands(name, tmp_path):
    arguments = dict(FILES[name])
    path = tmp_path / "image.tif"
    tifffile.imwrite(path, arguments.pop("data"), **arguments)
    direct, through_zarr = both(path)
    assert direct.direct and not through_zarr.direct
    for region in REGIONS:
        band, expected = direct.read(*region), through_zarr.read(*region)
        assert band.dtype == expected.dtype and band.dtype.isnative
        np.testing.assert_array_equal(band, expected)
    np.testing.assert_array_equal(direct.read(0, 0, 300, 200), tifffile.imread(path).astype(band.dtype))
    direct.close(), through_zarr.close()


def test_each_pyramid_level_is_read_directly(tmp_path):
    path = tmp_path / "pyramid.ome.tif"
    pixels = PIXELS.astype(np.uint8)
    with tifffile.TiffWriter(path) as tif:
        tif.write(pixels, subifds=1, tile=(64, 64), compression="zlib", photometric="rgb")
        tif.write(pixels[::2, ::2], subfiletype=1, tile=(64, 64), compression="zlib", photometric="rgb")
    for level, expected in enumerate((pixels, pixels[::2, ::2])):
        direct, through_zarr = both(path, level)
        assert direct.direct
        np.testing.assert_array_equal(direct.read(3, 5, 97, 80), expected[3:100, 5:85])
        np.testing.assert_array_equal(direct.read(3, 5, 97, 80), through_zarr.read(3, 5, 97, 80))
        direct.close(), through_zarr.close()


@pytest.mark.parametrize("layout", ["channels as pages", "planes of samples"])
def test_planes_spread_over_pages_or_sample_planes_go_through_zarr(layout, tmp_path):
    path = tmp_path / "planes.tif"
    channels_first = np.ascontiguousarray(np.moveaxis(PIXELS, -1, 0))
    if layout == "channels as pages":
        tifffile.imwrite(path, channels_first, metadata={"axes": "CYX"}, tile=(32, 32))
    else:
        tifffile.imwrite(path, channels_first, planarconfig="separate", photometric="rgb", tile=(32, 32))
    source = TiffSource(path, 0, 0, 10**8)
    assert not source.direct
    np.testing.assert_array_equal(source.read(10, 20, 50, 60), PIXELS[10:60, 20:80])
    source.close()


def test_a_truncated_file_fails_the_read_that_reaches_the_missing_segments(tmp_path):
    path = tmp_path / "image.tif"
    tifffile.imwrite(path, PIXELS, tile=(64, 64), compression="zlib")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # tifffile writes the directory first: it stays whole
    source = TiffSource(path, 0, 0, 10**8)
    assert source.direct
    with pytest.raises(InvalidArgument, match="cannot read rows 256 to 299 of the TIFF file"):
        source.read(256, 0, 44, 200)
    source.close()


@pytest.mark.parametrize("compression, bomb", [("zlib", lambda raw: zlib.compress(raw, 9)),
                                               ("lzma", lzma.compress)])
def test_a_segment_that_inflates_past_its_tile_is_cut_at_the_tile(compression, bomb, tmp_path):
    """A 64x64 tile whose data inflates to 128 MiB: tifffile alone would hold all of it in memory."""
    path = tmp_path / "bomb.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8), tile=(64, 64), compression=compression)
    payload = bomb(b"\x07" * (128 * 1024 * 1024))
    with open(path, "ab") as file:
        offset = file.seek(0, 2)
        file.write(payload)
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["TileOffsets"].overwrite([offset])
        tif.pages[0].tags["TileByteCounts"].overwrite([len(payload)])
    for source in both(path):
        tracemalloc.start()
        try:
            np.testing.assert_array_equal(source.read(0, 0, 64, 64), np.full((64, 64), 7, np.uint8))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            source.close()
        assert peak < 32 * 1024 * 1024  # bytes: the tile and the readers, not the 128 MiB the segment inflates to
