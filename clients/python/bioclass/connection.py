"""Channels to a bioclass server: plain or TLS (optionally mutual), with an optional bearer token.

Settings come from arguments or the environment: BIOCLASS_TOKEN (or BIOCLASS_TOKEN_FILE: a file
whose first non-empty line is the token), BIOCLASS_TLS_CA, BIOCLASS_TLS_CERT and BIOCLASS_TLS_KEY
(client certificate for mutual TLS). The token is whichever the user holds: the server's ordinary
token, or its admin token, which may also register and import models.
"""
from __future__ import annotations

import collections
import os
from pathlib import Path

import grpc


class _CallDetails(collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials",
                                                           "wait_for_ready", "compression")),
                   grpc.ClientCallDetails):
    pass


class TokenInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                       grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `authorization: Bearer <token>` to every call, whatever its kind."""

    def __init__(self, token: str):
        self._header = ("authorization", f"Bearer {token}")

    def _with_token(self, details: grpc.ClientCallDetails) -> _CallDetails:
        metadata = [*(details.metadata or ()), self._header]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)


def open_channel(address: str, *, token: str | None = None, tls: bool | None = None, ca_cert: str | None = None,
                 client_cert: str | None = None, client_key: str | None = None,
                 max_message_bytes: int = 64 * 1024 * 1024) -> tuple[grpc.Channel, grpc.Channel]:
    """(channel to use for stubs, underlying channel for readiness and closing)."""
    if token is None:
        token = os.environ.get("BIOCLASS_TOKEN") or (read_token_file(os.environ["BIOCLASS_TOKEN_FILE"])
                                                     if os.environ.get("BIOCLASS_TOKEN_FILE") else None)
    ca_cert = ca_cert or os.environ.get("BIOCLASS_TLS_CA")
    client_cert = client_cert or os.environ.get("BIOCLASS_TLS_CERT")
    client_key = client_key or os.environ.get("BIOCLASS_TLS_KEY")
    options = [("grpc.max_receive_message_length", max_message_bytes),
               ("grpc.max_send_message_length", max_message_bytes)]
    if tls if tls is not None else bool(ca_cert or client_cert):
        credentials = grpc.ssl_channel_credentials(root_certificates=_read(ca_cert), private_key=_read(client_key),
                                                   certificate_chain=_read(client_cert))
        raw = grpc.secure_channel(address, credentials, options=options)
    else:
        raw = grpc.insecure_channel(address, options=options)
    channel = grpc.intercept_channel(raw, TokenInterceptor(token)) if token else raw
    return channel, raw


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def read_token_file(path: str | Path, what: str = "token file") -> str:
    """The first non-empty line of a token file; a file without one is an error, never "no token"."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    token = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not token:
        raise ValueError(f"{what} {path} holds no token (the file is empty or blank)")
    return token
