"""Access control for every service on the port: bearer tokens, upload rights, read-only mode, TLS.

One interceptor decides before any servicer runs, so a new RPC is covered without code of its own:
a missing or wrong token is UNAUTHENTICATED (compared in constant time); the methods that upload
code (a model's weights are a program) need the admin token unless uploads are open to every
caller; in read-only mode the methods that write are PERMISSION_DENIED.
"""
from __future__ import annotations

import hmac
from pathlib import Path

import grpc

from bioclass.server.settings import Settings

# Health checks stay open so that load balancers and probes need no secret.
OPEN_METHODS = {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}

# Methods that bring code from outside into the server (TorchScript, Keras and ONNX graphs are programs).
UPLOAD_METHODS = {
    "/bioclass.v1.Classifier/RegisterModel",
    "/bioclass.v1.Classifier/ImportBioimageio",
}

WRITE_METHODS = UPLOAD_METHODS | {
    "/bioclass.v1.Classifier/SetDefaultVersion",
    "/bioclass.v1.Training/Train",
    "/bioclass.v1.Training/CancelJob",
    "/bioclass.v1.Training/UploadDataset",
    "/bioclass.v1.AutoML/StartAutoML",
    "/bioclass.v1.AutoML/CancelAutoML",
    "/inference.GRPCInferenceService/RepositoryModelLoad",
    "/inference.GRPCInferenceService/RepositoryModelUnload",
}

UPLOADS_CLOSED = ("{method} needs the admin token: send it as the bearer token (BIOCLASS_TOKEN), or start the "
                  "server with --admin-token-file FILE or --allow-uploads")


def needs_guard(settings: Settings) -> bool:
    """Without tokens, read-only mode or closed uploads there is nothing to check: no interceptor, no per-call cost."""
    return bool(settings.token or settings.admin_token or settings.read_only or not settings.uploads_open)


class AccessInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, settings: Settings):
        self._token = _bearer(settings.token)
        self._admin = _bearer(settings.admin_token)
        self._read_only = settings.read_only
        self._uploads_open = settings.uploads_open

    async def intercept_service(self, continuation, details: grpc.HandlerCallDetails):
        handler = await continuation(details)
        if handler is None or details.method in OPEN_METHODS:
            return handler
        sent = dict(details.invocation_metadata or ()).get("authorization", "")
        sent = sent.encode() if isinstance(sent, str) else sent
        admin = self._admin is not None and hmac.compare_digest(sent, self._admin)
        if self._token is not None and not admin and not hmac.compare_digest(sent, self._token):
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED,
                           "missing or wrong token: send 'authorization: Bearer <token>'")
        method = details.method.rsplit("/", 1)[-1]
        if self._read_only and details.method in WRITE_METHODS:
            return _refuse(handler, grpc.StatusCode.PERMISSION_DENIED, f"the server is read-only: {method} is disabled")
        if details.method in UPLOAD_METHODS and not (admin or self._uploads_open):
            return _refuse(handler, grpc.StatusCode.PERMISSION_DENIED, UPLOADS_CLOSED.format(method=method))
        return handler


def _bearer(token: str | None) -> bytes | None:
    return f"Bearer {token}".encode() if token else None


def _refuse(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    async def abort(request_or_iterator, context):
        await context.abort(code, message)

    kind = {(False, False): grpc.unary_unary_rpc_method_handler, (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler, (True, True): grpc.stream_stream_rpc_method_handler}
    factory = kind[(handler.request_streaming, handler.response_streaming)]
    return factory(abort, request_deserializer=handler.request_deserializer,
                   response_serializer=handler.response_serializer)


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials when a certificate is configured; mutual TLS when a client CA is too."""
    if not settings.tls_cert:
        return None
    key, cert = Path(settings.tls_key).read_bytes(), Path(settings.tls_cert).read_bytes()
    client_ca = Path(settings.tls_client_ca).read_bytes() if settings.tls_client_ca else None
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)
