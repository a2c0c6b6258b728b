"""One error type that carries its gRPC status, shared by the server and the clients.

The server raises these from wherever the problem is found; the transport maps them to a
status in one place. The client turns a failed call back into the same classes.
"""
from __future__ import annotations

import grpc


class BioclassError(Exception):
    """An error with a gRPC status code and a one-line message for the user."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, code: grpc.StatusCode | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidArgument(BioclassError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(BioclassError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(BioclassError):
    code = grpc.StatusCode.ALREADY_EXISTS


class ResourceExhausted(BioclassError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(BioclassError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(BioclassError):
    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(BioclassError):
    code = grpc.StatusCode.DATA_LOSS


class PermissionDenied(BioclassError):
    code = grpc.StatusCode.PERMISSION_DENIED


_BY_CODE = {cls.code: cls for cls in (InvalidArgument, NotFound, AlreadyExists, ResourceExhausted,
                                      FailedPrecondition, Unavailable, DataLoss, PermissionDenied)}


def from_rpc_error(error: grpc.RpcError) -> BioclassError:
    """The BioclassError subclass matching a failed call's status, with the server's message."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    if code == grpc.StatusCode.UNAVAILABLE and not details:
        details = "server unavailable"
    cls = _BY_CODE.get(code, BioclassError)
    return cls(details or code.name, code)
