"""What a failed call means for the person at the keyboard, and what to do next.

One place for every client in Python (the CLI, napari); the Java client uses the same wording.
`explain(error)` gives the plain-words line and, separately, the technical detail (status code and
the server's own message) for a "Details:" line or the log.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bioclass.errors import BioclassError

# The server's words for a model process that died (server/session.py); a connection failure
# is UNAVAILABLE too, but never says this.
MODEL_PROCESS_DIED = "the model's process"
NOT_AN_IMAGE = "not an image"
TLS_TROUBLE = re.compile(r"ssl|handshake|certificate|socket closed", re.I)  # what gRPC says of a TLS mismatch
UNKNOWN_MODEL = re.compile(r"^unknown model (?P<model>.+); served models: (?P<served>.*)$")  # server/zoo.py
LOAD_FAILURE = re.compile(r"^model (?P<model>\S+) cannot be (?:loaded|restarted): (?P<reason>.*)$")

# Why a model could not load, from the server's detail to plain words (first match wins).
LOAD_REASONS = (
    (re.compile(r"weights file (\S+) is missing"), "its weights file {0} is missing"),
    (re.compile(r"network rejects input"), "its network does not accept the input size its card gives"),
    (re.compile(r"network outputs shape"), "its network has a different number of outputs than its card has labels"),
    (re.compile(r"loading took more than (\d+ s)"), "loading took more than {0}"),
    (re.compile(r"onnx\.ModelProto|INVALID_PROTOBUF|Protobuf parsing failed", re.I),
     "its file is not a valid ONNX model"),
    (re.compile(r"PytorchStreamReader|UnpicklingError|invalid load key", re.I),
     "its file is not a valid PyTorch model"),
    (re.compile(r"file signature not found|not a zip file|HDF5", re.I), "its file is not a valid Keras model"),
)

# Why one image was skipped, in a few words for a summary line (first match wins).
IMAGE_REASONS = (
    (re.compile(r"truncated", re.I), "truncated"),
    (re.compile(r"not a PNG, JPEG, TIFF or BMP|unsupported image format|no bytes", re.I), NOT_AN_IMAGE),
    (re.compile(r"exceeds the server limit|decompression bomb", re.I), "too large"),
    (re.compile(r"NaN or infinite", re.I), "NaN or infinite pixels"),
    (re.compile(r"channels", re.I), "unsupported channel count"),
    (re.compile(r"cannot decode", re.I), "unreadable image"),
)


@dataclass(frozen=True)
class UserMessage:
    """`text`: what happened and what to do, in plain words; `details`: code and the server's message."""

    text: str
    details: str


def explain(error: BaseException, address: str = "") -> UserMessage:
    """The user's message for a failed call to the server at `address`."""
    if not isinstance(error, BioclassError):
        return UserMessage(_sentence(str(error) or type(error).__name__), f"{type(error).__name__}: {error}")
    details = f"{error.code.name}: {error.message}"
    return UserMessage(_text_for(error.code.name, error.message, address), details)


def _text_for(code: str, detail: str, address: str) -> str:
    if code == "UNAVAILABLE":
        if MODEL_PROCESS_DIED in detail:
            return (f"The model stopped on the server ({detail.split(';')[0]}). Try again: the server restarts "
                    f"it. If it stops again, it may need more memory than the server has.")
        where = address or "the address given"
        text = f"Cannot reach the bioclass server at {where}. Is `bioclass serve` running there?"
        if TLS_TROUBLE.search(detail):
            text += " If it serves TLS, give its CA certificate (BIOCLASS_TLS_CA, or TLS CA in napari)."
        return text
    if code == "FAILED_PRECONDITION" and (match := LOAD_FAILURE.match(detail)):
        return (f"Model {match['model']} could not be loaded: {load_reason(match['reason'])}. "
                f"Choose another model, or register the model again with a working file.")
    if code == "DEADLINE_EXCEEDED":
        return ("The server did not answer in time: it is busy, or the job is slow. Wait a little and try "
                "again; for large folders, send fewer images at once.")
    if code == "UNAUTHENTICATED":
        return ("The server refused the token. Give the token `bioclass serve` was started with "
                "(--token-file): set BIOCLASS_TOKEN, or the Token field in napari.")
    if code == "ALREADY_EXISTS":
        return (f"{_sentence(detail.removesuffix('; set overwrite'))} Choose another id, or replace it "
                f"(the overwrite box, or --overwrite).")
    if code == "PERMISSION_DENIED":
        return f"The server refused: {_sentence(detail)}"  # its message names the setting that allows it
    if code == "NOT_FOUND" and (match := UNKNOWN_MODEL.match(detail)):
        return f"The server has no model {match['model']}. Choose one it serves: {match['served']}."
    return _sentence(detail)


def load_reason(reason: str) -> str:
    """Plain words for why a model file could not be loaded (the server's reason when unknown)."""
    for pattern, words in LOAD_REASONS:
        if match := pattern.search(reason):
            return words.format(*match.groups())
    return reason.rstrip(".")


def image_reason(detail: str) -> str:
    """A few words on why the server refused one image, for a summary ("bad.png truncated")."""
    for pattern, words in IMAGE_REASONS:
        if pattern.search(detail):
            return words
    return detail.rstrip(".")


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")) if text else text
