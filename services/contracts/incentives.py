"""``incentives.v1.allocated``: what one edition revision moved in the fund (R6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from .base import Contract, Fen, ShortText, UnitId
from .envelope import Event


class UnitAward(Contract):
    """Money booked for one unit by this settlement (R6.3); negative only for adjustments."""

    unit_id: UnitId
    fen: Fen
    kind: Literal["allocation", "adjustment"]


class Allocated(Event):
    """R6.2-R6.4: the settlement of one edition revision: the pool, each unit's fen and the
    year's remaining balance. ``aggregate_id`` is ``fund-<year>``.

    R7 (added within v1, absent from older events): ``cutoff`` of the edition, and
    ``input_positions``, the ``RANKING`` stream sequence of the edition revision this settlement
    was computed from (every earlier edition of the year was settled before it, R6.2).
    """

    SUBJECT = "incentives.v1.allocated"
    type: Literal["incentives.v1.allocated"] = "incentives.v1.allocated"
    year: int = Field(ge=2000, le=2200)
    edition: int = Field(ge=1)
    revision: int = Field(ge=1)
    rule_version: ShortText
    pool: Fen
    awards: Annotated[list[UnitAward], Field(max_length=20_000)]
    fund: Fen
    allocated_total: Fen
    remaining: Fen
    cutoff: AwareDatetime | None = None
    input_positions: dict[str, Annotated[int, Field(ge=0)]] | None = None
