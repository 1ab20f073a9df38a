"""How a consumer's failure is classified (ARCHITECTURE.md "Failures").

- ``invalid``: the message itself can never be applied (it fails the contract when bound to the
  handler's parameter, is not JSON, or the handler says so with ``InvalidMessage``): dead-letter
  it at once.
- ``not_ready``: the message must wait for another one first (``NotReady``, e.g. strict edition
  order, R6.2): nak with its delay, however often; it never counts towards ``max_deliver``.
- ``transient``: the infrastructure is away (PostgreSQL, its pool, NATS, a timeout): nak with the
  longest delay, however often. Dead-lettering here would lose valid events during an outage.
- ``failure``: anything else (a bug, a broken invariant): nak with a growing delay, dead-letter
  at ``max_deliver``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Literal

import nats.errors
import psycopg
import psycopg_pool
from pydantic import ValidationError

Kind = Literal["invalid", "not_ready", "transient", "failure"]


class InvalidMessage(ValueError):
    """Raised by a handler for input that can never be applied (dead-lettered at once)."""


class NotReady(Exception):
    """Raised by a handler when the message must wait for an earlier one (nak, not counted)."""

    def __init__(self, reason: str, delay_seconds: float = 1.0) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


_TRANSIENT = (
    psycopg.OperationalError,
    psycopg_pool.PoolTimeout,
    nats.errors.Error,
    asyncio.TimeoutError,
    ConnectionError,
)


def is_argument_error(exc: ValidationError) -> bool:
    """True when FastStream failed to bind the message to the handler's typed parameter.

    Such errors are titled with the handler's (snake_case) function name, while a model's own
    errors raised inside a handler carry its (CamelCase) class name: those are our bugs, not
    bad input, and must be retried rather than dead-lettered.
    """
    return exc.title[:1].islower()


def classify(exc: BaseException) -> Kind:
    """The failure kind of ``exc`` (see the module docstring)."""
    if isinstance(exc, ValidationError):
        return "invalid" if is_argument_error(exc) else "failure"
    if isinstance(exc, InvalidMessage | json.JSONDecodeError | UnicodeDecodeError):
        return "invalid"
    if isinstance(exc, NotReady):
        return "not_ready"
    if isinstance(exc, _TRANSIENT):
        return "transient"
    return "failure"
