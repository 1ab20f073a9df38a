"""The one exception commands raise: printed as one line, exit status 1."""

from __future__ import annotations

from typing import Any


class CliError(Exception):
    """A failure the user can act on; ``str(error)`` is the whole message (one line)."""


class HttpError(CliError):
    """A service answered 4xx/5xx; ``body`` is its parsed JSON (or text)."""

    def __init__(self, message: str, status: int, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
