"""Failure policy for every consumer (ARCHITECTURE.md "Failures").

- A message that fails parsing or validation is dead-lettered at once and terminated.
- A handler exception naks with a growing delay (1 s, 5 s, 30 s, 120 s by default).
- At ``max_deliver`` deliveries the message is dead-lettered and terminated.

The dead letter carries the original subject, payload, stream sequence, delivery count and
reason, and is published with a message id derived from the stream position so that a retried
dead-lettering is stored once.
"""

from __future__ import annotations

import base64
import json
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
from .commands import command_scope, field_errors

log = logging.getLogger(__name__)

# publish(subject, payload, msg_id) -> stream sequence
PublishRaw = Callable[[str, bytes, str], Awaitable[int]]


class InvalidMessage(ValueError):
    """Raised by a handler for input that can never be applied (dead-lettered at once)."""


def _describe_validation(exc: ValidationError) -> str:
    parts = [f"{e.path}: {e.message}" for e in field_errors(exc)[:20]]
    return "invalid payload: " + "; ".join(parts)


def _payload_text(body: bytes) -> tuple[str, str]:
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), "base64"


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
    raw = msg.raw_message
    metadata = js_metadata(raw)
    stream = getattr(metadata, "stream", None)
    seq = getattr(getattr(metadata, "sequence", None), "stream", None)
    delivered = int(getattr(metadata, "num_delivered", 0) or 0)
    payload, encoding = _payload_text(bytes(msg.body))
    letter = DeadLetter(
        service=service,
        original_subject=getattr(raw, "subject", "") or "",
        payload=payload,
        payload_encoding=encoding,
        stream=stream,
        stream_sequence=seq,
        delivery_count=delivered,
        reason=reason[:1000],
        failed_at=now,
    )
    msg_id = f"dlq-{service}-{stream}-{seq}" if seq is not None else f"dlq-{msg.message_id}"
    return letter, msg_id


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

    async def send(msg: StreamMessage[Any], reason: str) -> None:
        letter, msg_id = build_dead_letter(service, msg, reason, datetime.now(UTC))
        await publish()(dead_letter_subject(service), to_wire(letter), msg_id)
        await after_dead_letter(letter)
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

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self,
            call_next: Callable[[StreamMessage[Any]], Awaitable[Any]],
            msg: StreamMessage[Any],
        ) -> Any:
            subject = getattr(msg.raw_message, "subject", "")
            metadata = js_metadata(msg.raw_message)
            if metadata is None:
                # A request-reply command: the caller gets the error as the reply.
                return await command_scope(call_next, msg)
            delivered = int(getattr(metadata, "num_delivered", 1) or 1)
            if delivered > max_deliver:
                # Redelivered without an outcome too often (e.g. the process died each time).
                await send(msg, f"max_deliver exceeded: {delivered} deliveries without outcome")
                raise RejectMessage()
            try:
                result = await call_next(msg)
            except HandlerException:
                raise
            except (
                ValidationError,
                InvalidMessage,
                json.JSONDecodeError,
                UnicodeDecodeError,
            ) as exc:
                reason = (
                    _describe_validation(exc)
                    if isinstance(exc, ValidationError)
                    else f"invalid payload: {exc}"
                )
                await send(msg, reason)
                raise RejectMessage() from exc
            except Exception as exc:
                metrics.FAILED.labels(subject).inc()
                if delivered >= max_deliver:
                    await send(msg, f"handler failed {delivered} times: {exc!r}")
                    raise RejectMessage() from exc
                delay = nak_delays[min(delivered - 1, len(nak_delays) - 1)]
                log.warning(
                    "handler failed; will retry",
                    extra={"subject": subject, "deliveries": delivered, "delay": delay},
                    exc_info=True,
                )
                raise NackMessage(delay=delay) from exc
            metrics.HANDLED.labels(subject).inc()
            return result

    return DeadLetterMiddleware
