"""Fetched batches of JetStream messages applied in one transaction, each message still meeting
the failure policy on its own (ARCHITECTURE.md "Failures", ``dead_letters.py``).

Why: FastStream's per-message path (dependency injection, middlewares, a task per message) costs
more than fetching and acking the message itself, and a transaction per message costs an fsync.
A batch subscriber (``Bus.batch_subscriber``) hands the whole fetch to `BatchApplier`, which

1. decodes each message against its contract; one that fails is dead-lettered with the reason
   and terminated (it never blocks the others),
2. applies the valid ones of the fetched batches waiting (below) with one ``apply(conn,
   items)`` call in one transaction, then acks each,
3. when that transaction fails: if the database or the broker is away (``transient``) or a
   message must wait (``not_ready``), naks every message with its delay; otherwise applies
   each fetched batch again in a transaction of its own, and the messages of one that fails
   each alone, so that only the failing message is nak'ed (and dead-lettered at
   ``max_deliver``) while the others commit.

``apply`` must be all-or-nothing for a list and correct for a list of one; the consumer must be
idempotent (a redelivered message is applied once: processed ids, or rows keyed by the event id,
in the same transaction).

Pipelined: the handler decodes a batch, hands it to the applier's task and returns, so that
FastStream fetches (and the handler decodes) the next batch while the database applies this one.
On two cores this process and PostgreSQL then work at the same time instead of in turn
(about a third more events per second when it came in). Up to `WAITING` batches wait
while one is applied, and the applier takes all those waiting into its next transaction: a
fetch ends at its wait (``batch_wait_seconds``, short for a lone message's latency) with what
the client took in by then, a few hundred messages on a busy machine, and a transaction's fixed
cost (lock, positions, commit, round trips) weighed on each of them (docs/decisions.md "Merged
batches"). Batches are applied in the order they were fetched, and the consumer's
``max_ack_pending`` covers the batches in hand (`in_hand`). `drain`, run before the broker
stops, applies and acks what was handed over; later batches are applied by the handler itself,
after those, and FastStream waits for them. A fetch that completes after FastStream's
subscriber began stopping is dropped by FastStream unhandled and unacked: it comes back after
``ack_wait`` and is applied once then (at-least-once, idempotent consumers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nats.aio.msg import Msg
from pydantic import ValidationError

from . import metrics
from .commands import describe_validation
from .db import Conn
from .dead_letters import DeadLetterSender, js_metadata
from .failures import NotReady, classify

log = logging.getLogger(__name__)

T = TypeVar("T")
Transaction = Callable[[], AbstractAsyncContextManager[Conn]]
Apply = Callable[[Conn, Sequence[T]], Awaitable[None]]
# Decodes one message into what ``apply`` takes; raises only for invalid input (the contract).
Decode = Callable[[Msg], T]

# Fetched batches that may wait while one is applied; the applier takes them all at once.
WAITING = 3


def in_hand(batch_size: int) -> int:
    """A batch consumer's ``max_ack_pending``: the batches it may hold, i.e. those being applied
    (up to `WAITING` taken together), `WAITING` waiting and one decoded batch being handed over
    (acks still on their way and messages nak'ed with a delay count too: a fetch then gets
    fewer)."""
    return batch_size * (2 * WAITING + 1)


@dataclass(frozen=True)
class Policy:
    """The failure policy's numbers (``ServiceSettings``)."""

    max_deliver: int
    nak_delays: tuple[float, ...]

    def delay(self, delivered: int) -> float:
        return self.nak_delays[min(max(delivered, 1) - 1, len(self.nak_delays) - 1)]


class BatchApplier(Generic[T]):
    """Applies fetched batches (see the module docstring)."""

    def __init__(
        self,
        name: str,
        transaction: Transaction,
        decode: Decode[T],
        apply: Apply[T],
        dead_letters: DeadLetterSender,
        policy: Policy,
    ) -> None:
        self.name = name
        self._transaction = transaction
        self._decode = decode
        self._apply = apply
        self._dead_letters = dead_letters
        self._policy = policy
        self._handed: asyncio.Queue[list[tuple[Msg, T]]] = asyncio.Queue(maxsize=WAITING)
        self._applier: asyncio.Task[None] | None = None
        self._inline = False

    async def __call__(self, messages: Sequence[Msg]) -> None:
        """Handle one fetched batch: decode it, then hand it over to be applied (or, once
        draining, apply it here). Never raises: each message is acked, nak'ed or terminated."""
        valid: list[tuple[Msg, T]] = []
        for msg in messages:
            try:
                valid.append((msg, self._decode(msg)))
            except Exception as exc:  # decoding is the contract: it fails on the input only
                await self._dead_letter(msg, _reason(exc))
        if not valid:
            return
        if self._inline:
            await self._handed.join()  # after the batches handed over before: fetch order
            await self._apply_batches([valid])
            return
        if self._applier is None or self._applier.done():
            self._applier = asyncio.create_task(self._apply_handed(), name=f"apply-{self.name}")
        await self._handed.put(valid)

    async def drain(self) -> None:
        """Apply and ack every batch handed over; from now on the handler applies batches
        itself (the broker's graceful stop waits for those)."""
        self._inline = True
        if self._applier is not None and not self._applier.done():
            await self._handed.join()
            self._applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._applier

    async def _apply_handed(self) -> None:
        while True:
            batches = [await self._handed.get()]
            while not self._handed.empty():  # every batch waiting, in the order fetched
                batches.append(self._handed.get_nowait())
            try:
                await self._apply_batches(batches)
            except Exception:  # _apply_batches handles every failure; this task must not end
                log.exception("applying a batch failed", extra={"batch": self.name})
            finally:
                for _ in batches:
                    self._handed.task_done()

    async def _apply_batches(self, batches: list[list[tuple[Msg, T]]]) -> None:
        """Apply the messages of ``batches`` in one transaction and ack them; when it fails, the
        failure policy (module docstring, step 3)."""
        valid = [pair for batch in batches for pair in batch]
        try:
            async with self._transaction() as conn:
                await self._apply(conn, [item for _, item in valid])
        except Exception as exc:
            if len(valid) == 1 or classify(exc) in ("transient", "not_ready"):
                for msg, _ in valid:
                    await self._retry(msg, exc)
            elif len(batches) > 1:
                # Each fetch again on its own: a failing message takes only its own fetch
                # into transactions of one message each.
                for batch in batches:
                    await self._apply_batches([batch])
            else:
                log.warning(
                    "batch failed; applying its messages one by one",
                    extra={"batch": self.name, "messages": len(valid), "error": repr(exc)},
                )
                await self._one_by_one(valid)
            return
        metrics.BATCH_MESSAGES.labels(self.name).observe(len(valid))
        await self._ack_all([msg for msg, _ in valid])

    async def _one_by_one(self, valid: list[tuple[Msg, T]]) -> None:
        for msg, item in valid:
            try:
                async with self._transaction() as conn:
                    await self._apply(conn, [item])
            except Exception as exc:
                await self._retry(msg, exc)
            else:
                await self._ack_all([msg])

    async def _ack_all(self, messages: list[Msg]) -> None:
        # One after another: an ack is a publish into the client's buffer (no round trip), and
        # a task per ack (gather) cost more than the acks themselves at 500 per batch.
        handled: Counter[str] = Counter()
        failed = 0
        for msg in messages:
            try:
                await msg.ack()
            except Exception:  # the connection dropped: redelivered after ack_wait, applied once
                failed += 1
            handled[msg.subject] += 1
        if failed:
            log.warning(
                "acks failed; those messages come back after ack_wait and are applied once",
                extra={"batch": self.name, "failed": failed},
            )
        for subject, count in handled.items():
            metrics.HANDLED.labels(subject).inc(count)

    async def _retry(self, msg: Msg, exc: Exception) -> None:
        """The failure policy for a message whose application failed."""
        kind = classify(exc)
        delivered = int(getattr(js_metadata(msg), "num_delivered", 1) or 1)
        if kind == "invalid":
            await self._dead_letter(msg, _reason(exc))
            return
        if kind == "not_ready":
            assert isinstance(exc, NotReady)
            await _nak(msg, exc.delay_seconds)
            return
        metrics.FAILED.labels(msg.subject).inc()
        if kind == "failure" and delivered >= self._policy.max_deliver:
            await self._dead_letter(msg, f"handler failed {delivered} times: {exc!r}")
            return
        delay = self._policy.delay(delivered)
        log.warning(
            "dependency unavailable; will retry" if kind == "transient" else "will retry",
            extra={"subject": msg.subject, "deliveries": delivered, "delay": delay},
            exc_info=exc,
        )
        await _nak(msg, delay)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        """Store the dead letter, then terminate; never terminate one that was not stored."""
        try:
            await self._dead_letters.send(msg, msg.data, reason)
        except Exception:
            log.warning("dead-lettering failed; will retry", exc_info=True)
            await _nak(msg, max(self._policy.nak_delays))
            return
        try:
            await msg.term()
        except Exception:  # the connection dropped: it is redelivered and dead-lettered again
            log.warning("terminating a dead-lettered message failed", exc_info=True)


async def _nak(msg: Msg, delay: float) -> None:
    try:
        await msg.nak(delay=delay)
    except Exception:  # the connection dropped: redelivered after ack_wait anyway
        log.warning("nak failed; the message comes back after ack_wait", exc_info=True)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return describe_validation(exc)
    return f"invalid payload: {exc}"


def raw_messages(batch: Any) -> list[Msg]:
    """The NATS messages of a FastStream batch message."""
    raw = batch.raw_message
    return list(raw) if isinstance(raw, list) else [raw]
