"""``notify.v1.*``: the outcome of each delivery attempt chain (R5)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Reason, ShortText
from .envelope import Event


class Delivered(Event):
    """A notice reached its recipient's channel (2xx from the receiver)."""

    SUBJECT = "notify.v1.delivered"
    type: Literal["notify.v1.delivered"] = "notify.v1.delivered"
    notification_id: UUID
    notice_type: ShortText
    recipient: ShortText
    channel: ShortText
    attempts: int = Field(ge=1)


class Failed(Event):
    """A notice could not be delivered after its attempts; it is also dead-lettered."""

    SUBJECT = "notify.v1.failed"
    type: Literal["notify.v1.failed"] = "notify.v1.failed"
    notification_id: UUID
    notice_type: ShortText
    recipient: ShortText
    channel: ShortText
    attempts: int = Field(ge=1)
    reason: Reason
