"""Failure policy for every consumer (ARCHITECTURE.md "Failures"), as a FastStream middleware.

What is done with a failure depends on its kind (``failures.classify``): invalid input is
dead-lettered at once and terminated; a message that is not ready yet or meets an unavailable
dependency is nak'ed with a delay however often; any other exception naks with a growing delay
(1 s, 5 s, 30 s, 120 s by default) and is dead-lettered at ``max_deliver``. A message is never
terminated unless its dead letter was stored.

The dead letter carries the original subject, payload, stream sequence, delivery count and
reason, and is published with a message id derived from the stream position so that a retried
dead-lettering is stored once.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from faststream import BaseMiddleware
from faststream.exceptions import HandlerException, NackMessage, RejectMessage
from faststream.message import StreamMessage
from pydantic import ValidationError

from services.contracts.base import to_wire
from services.contracts.dead_letter import DeadLetter
from services.contracts.streams import dead_letter_subject

from . import metrics
from .commands import command_scope, describe_validation
from .failures import NotReady, classify

log = logging.getLogger(__name__)

# publish(subject, payload, msg_id) -> stream sequence
PublishRaw = Callable[[str, bytes, str], Awaitable[int]]


# A dead letter must fit the DLQ stream's 8 MB limit once JSON-escaped; the original stays on
# its stream (stream + sequence) for replay, so a large payload is kept only in part.
MAX_PAYLOAD_KEPT = 1024 * 1024


def _payload_text(body: bytes) -> tuple[str, str, bool]:
    truncated = len(body) > MAX_PAYLOAD_KEPT
    kept = body[:MAX_PAYLOAD_KEPT]
    try:
        return kept.decode("utf-8"), "utf-8", truncated
    except UnicodeDecodeError:
        return base64.b64encode(kept).decode(), "base64", truncated


def js_metadata(raw: Any) -> Any | None:
    """JetStream metadata of a raw message, or None for a core NATS message (a command);
    nats-py raises rather than answering None there."""
    try:
        return raw.metadata
    except Exception:
        return None


def build_dead_letter(
    service: str, msg: StreamMessage[Any], reason: str, now: datetime
) -> tuple[DeadLetter, str]:
    """The dead letter for ``msg`` and its idempotent message id."""
    return dead_letter_of(service, msg.raw_message, bytes(msg.body), reason, now, msg.message_id)


def dead_letter_of(
    service: str, raw: Any, body: bytes, reason: str, now: datetime, message_id: str = ""
) -> tuple[DeadLetter, str]:
    """The dead letter for the NATS message ``raw`` (its ``body``) and its idempotent message
    id: derived from the stream position, so that a retried dead-lettering is stored once."""
    metadata = js_metadata(raw)
    stream = getattr(metadata, "stream", None)
    seq = getattr(getattr(metadata, "sequence", None), "stream", None)
    delivered = int(getattr(metadata, "num_delivered", 0) or 0)
    payload, encoding, truncated = _payload_text(body)
    letter = DeadLetter(
        service=service,
        original_subject=getattr(raw, "subject", "") or "",
        payload=payload,
        payload_encoding=encoding,
        payload_truncated=truncated,
        stream=stream,
        stream_sequence=seq,
        delivery_count=delivered,
        reason=reason[:1000],
        failed_at=now,
    )
    msg_id = f"dlq-{service}-{stream}-{seq}" if seq is not None else f"dlq-{message_id}"
    return letter, msg_id


class DeadLetterSender:
    """Stores a dead letter on ``dlq.<service>``, then runs the service's hooks (e.g. ranking
    counts the position as handled, R7). Raises if the dead letter could not be stored."""

    def __init__(
        self,
        service: str,
        publish: Callable[[], PublishRaw],
        after_dead_letter: Callable[[DeadLetter], Awaitable[None]],
    ) -> None:
        self.service = service
        self._publish = publish  # resolved lazily: the connection exists only after start
        self._after = after_dead_letter

    async def send(self, raw: Any, body: bytes, reason: str, message_id: str = "") -> None:
        letter, msg_id = dead_letter_of(
            self.service, raw, body, reason, datetime.now(UTC), message_id
        )
        await self._publish()(dead_letter_subject(self.service), to_wire(letter), msg_id)
        await self._after(letter)
        metrics.DEAD_LETTERED.labels(letter.original_subject, reason.split(":", 1)[0]).inc()
        log.error(
            "dead-lettered",
            extra={
                "subject": letter.original_subject,
                "seq": letter.stream_sequence,
                "deliveries": letter.delivery_count,
                "reason": letter.reason,
            },
        )


def dead_letter_middleware(
    service: str,
    publish: Callable[[], PublishRaw],
    after_dead_letter: Callable[[DeadLetter], Awaitable[None]],
    max_deliver: int,
    nak_delays: tuple[float, ...],
) -> type[BaseMiddleware]:
    """A FastStream middleware class implementing the failure policy for ``service``.

    ``publish`` is resolved lazily because the broker connection exists only after start.
    """

    sender = DeadLetterSender(service, publish, after_dead_letter)

    async def send(msg: StreamMessage[Any], reason: str) -> None:
        await sender.send(msg.raw_message, bytes(msg.body), reason, msg.message_id)

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self,
            call_next: Callable[[StreamMessage[Any]], Awaitable[Any]],
            msg: StreamMessage[Any],
        ) -> Any:
            if isinstance(msg.raw_message, list):
                # A fetched batch: its handler applies this policy to each message itself
                # (batches.BatchApplier) and acks, naks or terminates each one.
                return await call_next(msg)
            metadata = js_metadata(msg.raw_message)
            if metadata is None:
                # A request-reply command: the caller gets the error as the reply.
                return await command_scope(call_next, msg, send)
            try:
                result = await call_next(msg)
            except HandlerException:
                raise
            except Exception as exc:
                delivered = int(getattr(metadata, "num_delivered", 1) or 1)
                await handle_failure(msg, exc, delivered)
                raise  # handle_failure always raises; this line is for the type checker
            metrics.HANDLED.labels(getattr(msg.raw_message, "subject", "")).inc()
            return result

    async def handle_failure(msg: StreamMessage[Any], exc: Exception, delivered: int) -> None:
        subject = getattr(msg.raw_message, "subject", "")
        kind = classify(exc)
        longest = max(nak_delays)
        if kind == "invalid":
            reason = (
                describe_validation(exc)
                if isinstance(exc, ValidationError)
                else f"invalid payload: {exc}"
            )
            await send_or_retry(msg, reason)
            raise RejectMessage() from exc
        if kind == "not_ready":
            assert isinstance(exc, NotReady)
            log.info("not ready; will retry", extra={"subject": subject, "reason": str(exc)})
            raise NackMessage(delay=exc.delay_seconds) from exc
        metrics.FAILED.labels(subject).inc()
        if kind == "transient":
            delay = nak_delays[min(delivered - 1, len(nak_delays) - 1)]
            log.warning(
                "dependency unavailable; will retry",
                extra={"subject": subject, "deliveries": delivered, "delay": delay},
                exc_info=True,
            )
            raise NackMessage(delay=min(delay, longest)) from exc
        if delivered >= max_deliver:
            await send_or_retry(msg, f"handler failed {delivered} times: {exc!r}")
            raise RejectMessage() from exc
        delay = nak_delays[min(delivered - 1, len(nak_delays) - 1)]
        log.warning(
            "handler failed; will retry",
            extra={"subject": subject, "deliveries": delivered, "delay": delay},
            exc_info=True,
        )
        raise NackMessage(delay=delay) from exc

    async def send_or_retry(msg: StreamMessage[Any], reason: str) -> None:
        try:
            await send(msg, reason)
        except Exception as exc:
            # Never terminate a message whose dead letter was not stored.
            log.warning("dead-lettering failed; will retry", exc_info=True)
            raise NackMessage(delay=max(nak_delays)) from exc

    return DeadLetterMiddleware
