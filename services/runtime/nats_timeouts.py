"""A shim for a mismatch between nats-py and FastStream that loses fetched messages.

nats-py's ``PullSubscription.fetch`` raises the builtin ``asyncio.TimeoutError`` on some paths
(``_fetch_n`` when the deadline is spent) and ``nats.errors.TimeoutError`` on others.
FastStream 0.7's pull loops catch only ``nats.errors.TimeoutError`` (``from nats.errors import
TimeoutError`` in ``stream_pull_subscriber.py``), so the builtin one kills the fetch task: its
supervisor restarts it, but the messages the batch loop had already fetched are neither handled
nor acked and come back only after ``ack_wait`` (measured: a lone message delayed by a minute,
tests waiting for it timing out).

`install` wraps ``fetch`` so every timeout is ``nats.errors.TimeoutError``, which subclasses
the builtin one: callers catching either still do. Idempotent; called when the bus is built.
"""

from __future__ import annotations

import functools
from typing import Any

import nats.errors
from nats.js.client import JetStreamContext

_MARK = "_chuangwen_timeouts"


def install() -> None:
    """Make ``PullSubscription.fetch`` raise only ``nats.errors.TimeoutError`` on a timeout."""
    subscription = JetStreamContext.PullSubscription
    original = subscription.fetch
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as exc:
            raise nats.errors.TimeoutError from exc

    setattr(fetch, _MARK, True)
    subscription.fetch = fetch  # type: ignore[method-assign]
