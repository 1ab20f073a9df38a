"""The flat event envelope (ARCHITECTURE.md "Event envelope")."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from .base import Contract, ShortText


class Event(Contract):
    """Envelope fields every event carries, followed by its payload fields.

    ``schema`` is exposed through an alias because it shadows a BaseModel attribute.
    """

    SUBJECT: ClassVar[str] = ""
    TYPE: ClassVar[str] = ""

    event_id: UUID
    type: ShortText
    schema_version: int = Field(1, alias="schema", ge=1, le=1000)
    occurred_at: AwareDatetime
    producer: ShortText
    aggregate_id: ShortText
    aggregate_version: int = Field(ge=1)
