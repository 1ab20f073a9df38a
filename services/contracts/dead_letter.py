"""``dlq.<service>``: what a consumer could not apply, with enough to inspect and replay it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from .base import Contract, Reason, ShortText


class DeadLetter(Contract):
    """A dead-lettered message: the original subject and payload, where it sat on its stream,
    how often it was delivered and why it was given up."""

    service: ShortText
    original_subject: Annotated[str, StringConstraints(max_length=500)]
    payload: Annotated[str, StringConstraints(max_length=2 * 1024 * 1024)]
    payload_encoding: Annotated[str, StringConstraints(pattern=r"^(utf-8|base64)$")]
    # Only the first MiB is kept; the original is on ``stream`` at ``stream_sequence``.
    payload_truncated: bool = False
    stream: ShortText | None
    stream_sequence: int | None = Field(None, ge=0)
    delivery_count: int = Field(ge=0)
    reason: Reason
    failed_at: AwareDatetime
