"""The one place where errors become gRPC statuses: BioclassError keeps its code and message,
anything else is logged with its traceback and answered INTERNAL without one."""
from __future__ import annotations

import asyncio
import functools
import logging

import grpc

from bioclass.errors import BioclassError

log = logging.getLogger("bioclass.server")


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, BioclassError):
        await context.abort(exc.code, one_line(exc.message))
    log.exception("internal error in %s", method)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}: {type(exc).__name__}; "
                                                  "the server log has the details")


# gRPC clients drop a status whose headers pass 8 KiB (the message travels percent-encoded, up to
# 9 bytes per character), so a message echoing a 10,000-character path would reach the client as
# "metadata size exceeds soft limit" instead of the refusal it carries.
MESSAGE_WIRE_BYTES = 2048


def one_line(message: str) -> str:
    """Statuses carry one short line: library messages (YAML, Pillow) may span several, and a message
    that echoes a client's input is cut in the middle, keeping its start and its ending."""
    return _bounded(" ".join(message.split()) or "error", MESSAGE_WIRE_BYTES)


def _wire_bytes(text: str) -> int:
    return sum(1 if " " <= char <= "~" and char != "%" else 3 * len(char.encode()) for char in text)


def _bounded(message: str, budget: int) -> str:
    if _wire_bytes(message) <= budget:
        return message
    half = budget // 2 - 8
    head, tail = [], []
    used = 0
    for char in message:
        used += _wire_bytes(char)
        if used > half:
            break
        head.append(char)
    used = 0
    for char in reversed(message):
        used += _wire_bytes(char)
        if used > half:
            break
        tail.append(char)
    return "".join(head) + " ... " + "".join(reversed(tail))


def unary(method):
    """Wrap a unary-response handler (request or request stream in, one message out)."""
    @functools.wraps(method)
    async def handler(self, request, context):
        try:
            return await method(self, request, context)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status, never a traceback to the client
            if isinstance(exc, grpc.aio.AbortError):
                raise
            await _abort(context, exc, method.__name__)

    return handler


def streaming(method):
    """Wrap a stream-response handler (an async generator)."""
    @functools.wraps(method)
    async def handler(self, request, context):
        try:
            async for response in method(self, request, context):
                yield response
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            if isinstance(exc, grpc.aio.AbortError):
                raise
            await _abort(context, exc, method.__name__)

    return handler
