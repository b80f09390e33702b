"""Errors a caller can fix, typed by what is wrong; the type alone decides the HTTP status.

The service answers a RequestError with its `status` and the body {"error": message, "detail": [...]};
the `mdr` command prints the message and exits 2. Models raise the subclass that says what happened
(an unknown id, a file of the wrong kind), never a status chosen by the words of a message.
"""
from __future__ import annotations


class InputFileError(ValueError):
    """A file a stage or command reads that is malformed, truncated or of the wrong kind; a stage ends
    with exit code 2 and this message (pipeline.stage)."""


class RequestError(ValueError):
    """A malformed or out-of-range request (HTTP 422)."""
    status = 422

    def __init__(self, message: str, detail: list[str] | None = None):
        super().__init__(message)
        self.detail = detail if detail is not None else [message]


class NotFound(RequestError):
    """An id the served model does not know (HTTP 404)."""
    status = 404


class TooLarge(RequestError):
    """A body, file or clip over the service's limit (HTTP 413)."""
    status = 413


class UnsupportedMedia(RequestError):
    """An upload that is not a file of an accepted kind (HTTP 415)."""
    status = 415


class NotReady(RequestError):
    """The model behind the route has not loaded, or failed to (HTTP 503)."""
    status = 503


def check_range(value: int, low: int, high: int, where: str) -> int:
    """`value` itself, or a RequestError that names the field and the allowed range."""
    if not low <= value <= high:
        raise RequestError(f"{where}: must be between {low} and {high}, got {value}")
    return value
