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


def one_line(message: str) -> str:
    """Statuses carry one line: library messages (YAML, Pillow) may span several."""
    return " ".join(message.split()) or "error"


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
