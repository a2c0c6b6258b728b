"""Decoding of every supported format and dtype, and precise errors for bad images."""
import io

import numpy as np
import pytest
import tifffile
from PIL import Image

from bioclass.errors import InvalidArgument, ResourceExhausted
from bioclass.images import array_to_tensor, decode, decode_encoded, tensor_to_array, to_image
from bioclass.v1 import image_pb2 as pb

LIMIT = 10_000_000


def encode(array: np.ndarray, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF"])
def test_lossless_rgb_round_trip(fmt):
    rgb = np.random.default_rng(1).integers(0, 255, (12, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode_encoded(encode(rgb, fmt), 0, LIMIT), rgb)


def test_jpeg_and_rgba_and_palette():
    rgb = np.full((8, 8, 3), 200, np.uint8)
    assert np.abs(decode_encoded(encode(rgb, "JPEG"), 0, LIMIT).astype(int) - 200).max() <= 2
    rgba = np.full((4, 4, 4), 7, np.uint8)
    assert decode_encoded(encode(rgba, "PNG"), 0, LIMIT).shape == (4, 4, 4)
    palette = Image.fromarray(rgb).convert("P")
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    assert decode_encoded(buffer.getvalue(), 0, LIMIT).shape == (8, 8, 3)


def test_16bit_png_and_tiff():
    gray16 = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    for data in (encode(gray16, "PNG"), _tiff(gray16)):
        out = decode_encoded(data, 0, LIMIT)
        assert out.dtype == np.uint16
        np.testing.assert_array_equal(out, gray16)


def test_float_and_multipage_tiff_and_page_out_of_range():
    stack = np.stack([np.full((6, 5), i, np.float32) for i in range(3)])
    data = _tiff(stack, photometric="minisblack")
    for page in range(3):
        out = decode_encoded(data, page, LIMIT)
        assert out.dtype == np.float32 and out.shape == (6, 5) and out[0, 0] == page
    with pytest.raises(InvalidArgument, match="page 3 requested but the image has 3 page"):
        decode_encoded(data, 3, LIMIT)


def test_real_16bit_microscopy_sample(tmp_path):
    from paths import DATASETS

    path = next((DATASETS / "tiff16-samples").glob("*.tif"))
    out = decode(to_image(path), 50_000_000)
    assert out.dtype == np.uint16 and out.shape == (1024, 1280)


@pytest.mark.parametrize("data, message", [
    (b"", "no bytes"),
    (b"not an image at all", "cannot decode"),
    (b"GIF89a" + b"\0" * 20, "cannot decode|unsupported"),
])
def test_undecodable_bytes(data, message):
    with pytest.raises(InvalidArgument, match=message):
        decode_encoded(data, 0, LIMIT)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF"])
def test_truncated_files_are_invalid_argument(fmt):
    data = encode(np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8), fmt)
    with pytest.raises(InvalidArgument):
        decode_encoded(data[: len(data) // 2], 0, LIMIT)


def test_pixel_limit_checked_before_decoding():
    big = encode(np.zeros((300, 400), np.uint8), "PNG")
    with pytest.raises(ResourceExhausted, match="400x300 pixels exceeds the server limit of 1000"):
        decode_encoded(big, 0, 1000)
    with pytest.raises(ResourceExhausted):
        decode_encoded(_tiff(np.zeros((300, 400), np.uint16)), 0, 1000)


@pytest.mark.parametrize("array, axes", [
    (np.arange(12, dtype=np.uint8).reshape(3, 4), "yx"),
    (np.arange(36, dtype=np.uint16).reshape(3, 4, 3), "yxc"),
    (np.arange(24, dtype=np.float32).reshape(2, 3, 4), "cyx"),
])
def test_tensor_round_trip(array, axes):
    out = tensor_to_array(array_to_tensor(array, axes), LIMIT)
    expected = np.moveaxis(array, 0, -1) if axes == "cyx" else array
    np.testing.assert_array_equal(out, expected)


def test_images_fill_the_request_being_built(tmp_path):
    from bioclass.v1 import classifier_pb2

    path = tmp_path / "cell.png"
    path.write_bytes(encode(np.full((6, 5, 3), 90, np.uint8), "PNG"))
    for source in (np.arange(24, dtype=np.float32).reshape(2, 3, 4), path, path.read_bytes()):
        request = classifier_pb2.PredictRequest(model_id="m")
        filled = to_image(source, name="a", into=request.image)
        assert request.HasField("image") and request.image == filled == to_image(source, name="a")
    reused = classifier_pb2.PredictRequest()
    to_image(np.zeros((4, 4, 3), np.uint8), into=reused.image)
    to_image(np.ones((2, 3), np.uint16), into=reused.image)  # a refill replaces shape and data
    np.testing.assert_array_equal(tensor_to_array(reused.image.tensor, LIMIT), np.ones((2, 3), np.uint16))


def test_other_dtypes_are_converted_for_the_wire():
    assert array_to_tensor(np.zeros((2, 2), np.int64)).dtype == pb.UINT16
    assert array_to_tensor(np.full((2, 2), -1, np.int32)).dtype == pb.FLOAT32
    assert array_to_tensor(np.zeros((2, 2), np.float64)).dtype == pb.FLOAT32
    assert array_to_tensor(np.zeros((2, 2), bool)).dtype == pb.UINT8


@pytest.mark.parametrize("tensor, message", [
    (pb.Tensor(dtype=pb.DTYPE_UNSPECIFIED, shape=[2, 2], data=b"\0" * 4), "dtype"),
    (pb.Tensor(dtype=pb.UINT8, shape=[2, 2], axes="xyz", data=b"\0" * 4), "axes"),
    (pb.Tensor(dtype=pb.UINT8, shape=[2, 2, 2, 2], data=b"\0" * 16), "axes"),
    (pb.Tensor(dtype=pb.UINT8, shape=[2, 0], data=b""), "empty axis"),
    (pb.Tensor(dtype=pb.UINT16, shape=[2, 2], data=b"\0" * 4), "needs 8"),
    (pb.Tensor(dtype=pb.UINT8, shape=[2, 2, 40], data=b"\0" * 160), "channels"),
])
def test_bad_tensors(tensor, message):
    with pytest.raises(InvalidArgument, match=message):
        tensor_to_array(tensor, LIMIT)


def test_nan_and_empty_image_rejected():
    nan = np.full((2, 2), np.nan, np.float32)
    with pytest.raises(InvalidArgument, match="NaN"):
        decode(pb.Image(tensor=array_to_tensor(nan)), LIMIT)
    with pytest.raises(InvalidArgument, match="empty"):
        decode(pb.Image(), LIMIT)
    with pytest.raises(ResourceExhausted):
        tensor_to_array(pb.Tensor(dtype=pb.UINT8, shape=[100000, 100000], data=b""), LIMIT)


def _tiff(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()
