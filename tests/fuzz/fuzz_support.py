"""The one assertion every fuzz case makes: success, or an allowed status with a one-line message."""
import grpc

# Statuses a bad request may get; INTERNAL and UNKNOWN never.
REQUEST_ERRORS = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                            grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.FAILED_PRECONDITION,
                            grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.DATA_LOSS,
                            grpc.StatusCode.PERMISSION_DENIED})


class CaseChecker:
    """Runs fuzz cases and counts them (the count is printed and asserted by each file)."""

    def __init__(self, allowed=REQUEST_ERRORS):
        self.allowed = allowed
        self.count = 0

    def __call__(self, call) -> None:
        self.count += 1
        try:
            call()
        except grpc.RpcError as error:
            assert error.code() in self.allowed, (error.code(), error.details())
            assert error.details() and "Traceback" not in error.details() and "\n" not in error.details()
