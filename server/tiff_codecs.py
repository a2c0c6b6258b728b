"""Bounded decompression for TIFF segments read with tifffile.

Without imagecodecs, tifffile inflates Deflate and LZMA segments with `zlib.decompress(data)` and
`lzma.decompress(data)`, which have no output limit: a hostile file's 1 MB segment can inflate to
a gigabyte before tifffile notices it is larger than the tile it stands for. tifffile passes each
decoder the bytes it expects (`out`); the decoders installed here stop there.
"""
from __future__ import annotations

import lzma
import zlib

# When tifffile gives no expected size: the most one segment may inflate to.
MAX_SEGMENT_BYTES = 256 * 1024 * 1024
_DEFLATE = (8, 32946, 50013)  # Adobe Deflate, Deflate, Pixtiff Deflate
_LZMA = 34925


def _limit(out) -> int:
    return out if isinstance(out, int) and 0 < out <= MAX_SEGMENT_BYTES else MAX_SEGMENT_BYTES


def zlib_decode(data: bytes, /, *, out=None) -> bytes:
    return zlib.decompressobj().decompress(data, _limit(out))


def lzma_decode(data: bytes, /, *, out=None) -> bytes:
    return lzma.LZMADecompressor().decompress(data, max_length=_limit(out))


def install() -> None:
    """Put the bounded decoders in tifffile's codec table (idempotent; imagecodecs, when present,
    stays in charge of everything else)."""
    import tifffile

    codecs = tifffile.TIFF.DECOMPRESSORS._codecs  # the table CompressionCodec consults first
    for key in _DEFLATE:
        codecs[key] = zlib_decode
    codecs[_LZMA] = lzma_decode
