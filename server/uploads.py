"""Files a client uploads in chunks, spooled to a private temporary file under the work dir.

The file is held to a size limit (checked on the declared size before any chunk, then as bytes
arrive), checked against its SHA-256 when one is given, and removed when the caller is done.
Writes go to a thread: a chunk may be tens of megabytes, and the event loop must not wait on a disk.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bioclass.errors import InvalidArgument, ResourceExhausted

RunInThread = Callable[..., Awaitable]


@asynccontextmanager
async def spooled(chunks: AsyncIterator[bytes], declared: int, sha256: str, limit: int, folder: Path,
                  run: RunInThread) -> AsyncIterator[Path]:
    """The uploaded file's path, valid inside the `async with`; removed afterwards."""
    if declared > limit:
        raise ResourceExhausted(f"the upload declares {declared} bytes, above the server limit of {limit} bytes "
                                "(setting max_image_upload_bytes)")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="upload-", dir=folder)  # mode 0600: the server's own
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            digest, size = await receive(chunks, file, limit, run, declared)
        if declared and size != declared:
            raise InvalidArgument(f"the upload declared {declared} bytes but {size} arrived")
        if sha256 and digest.hexdigest() != sha256.lower():
            raise InvalidArgument(f"the upload's SHA-256 is {digest.hexdigest()}, not the {sha256} its header gives")
        yield path
    finally:
        path.unlink(missing_ok=True)


async def receive(chunks: AsyncIterator[bytes], file, limit: int, run: RunInThread, declared: int = 0,
                  setting: str = "max_image_upload_bytes"):
    """Write the chunks to `file` (each write in a thread), held to `limit` bytes (the Settings field
    `setting`) and to the `declared` size when one was given; the SHA-256 and the size that arrived."""
    digest = hashlib.sha256()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ResourceExhausted(f"the upload exceeds the server limit of {limit} bytes (setting {setting})")
        if declared and size > declared:
            raise InvalidArgument(f"the upload sends more than the {declared} bytes its header declares")
        await run(_write, file, digest, chunk)
    if not size:
        raise InvalidArgument("the upload sent no bytes")
    return digest, size


def _write(file, digest, chunk: bytes) -> None:
    file.write(chunk)
    digest.update(chunk)

