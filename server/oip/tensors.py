"""OIP tensors <-> numpy: datatypes, raw little-endian contents and the typed `contents` fields."""
from __future__ import annotations

import math
import struct

import numpy as np

from bioclass.errors import InvalidArgument

DTYPES = {"BOOL": np.dtype(np.bool_), "UINT8": np.dtype(np.uint8), "UINT16": np.dtype("<u2"),
          "UINT32": np.dtype("<u4"), "UINT64": np.dtype("<u8"), "INT8": np.dtype(np.int8),
          "INT16": np.dtype("<i2"), "INT32": np.dtype("<i4"), "INT64": np.dtype("<i8"),
          "FP16": np.dtype("<f2"), "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}
MAX_ELEMENTS = 2 ** 32
# Which InferTensorContents field carries each datatype when raw contents are not used.
_CONTENTS_FIELD = {"BOOL": "bool_contents", "UINT8": "uint_contents", "UINT16": "uint_contents",
                   "UINT32": "uint_contents", "UINT64": "uint64_contents", "INT8": "int_contents",
                   "INT16": "int_contents", "INT32": "int_contents", "INT64": "int64_contents",
                   "FP32": "fp32_contents", "FP64": "fp64_contents"}


def to_array(name: str, datatype: str, shape: list[int], raw: bytes | None, contents) -> np.ndarray:
    """The array of one input tensor, from its raw bytes or else its typed contents."""
    dtype = DTYPES.get(datatype)
    if dtype is None:
        raise InvalidArgument(f"input {name!r}: unsupported datatype {datatype!r}")
    if any(d < 0 for d in shape):
        raise InvalidArgument(f"input {name!r}: shape {shape} has a negative dimension")
    if math.prod(max(d, 1) for d in shape) > MAX_ELEMENTS:  # numpy cannot even describe such a shape
        raise InvalidArgument(f"input {name!r}: shape {shape} is too large")
    count = math.prod(shape)
    if raw is not None:
        if len(raw) != count * dtype.itemsize:
            raise InvalidArgument(f"input {name!r}: {len(raw)} bytes of raw contents but shape {shape} of "
                                  f"{datatype} needs {count * dtype.itemsize}")
        return np.frombuffer(raw, dtype).reshape(shape)
    values = getattr(contents, _CONTENTS_FIELD.get(datatype, "fp32_contents"))
    if len(values) != count:
        raise InvalidArgument(f"input {name!r}: {len(values)} values in contents but shape {shape} "
                              f"holds {count}")
    return np.asarray(values).astype(dtype).reshape(shape)


def encode_strings(values: list[str]) -> bytes:
    """BYTES tensor raw contents: each element as a 4-byte little-endian length, then its bytes."""
    parts = []
    for value in values:
        data = value.encode("utf-8")
        parts.append(struct.pack("<I", len(data)))
        parts.append(data)
    return b"".join(parts)
