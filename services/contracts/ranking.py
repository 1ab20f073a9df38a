"""``ranking.v1.*``: editions of the red and black lists (红黑榜, R4) and rate reports (R3.5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from .assessments import Month
from .base import Contract, FractionText, ShortText, UnitId
from .envelope import Event
from .units import UnitCategory

MAX_UNITS = 20_000


class Exact(Contract):
    """R7: an exact value as a reduced fraction string beside its display (half up, 2 places).

    Rates carry the fraction itself (``"3107/3440"``) and display a percentage (``"90.32"``);
    scores and composites are on a 0-100 scale already.
    """

    exact: FractionText
    display: Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$")]


class MonthScore(Exact):
    """R4.2: the assessment score used, with the month it is for."""

    month: Month


class Counts(Contract):
    """R3.1-R3.5: a unit's (or the campaign's) figures at the cutoff."""

    reported: int = Field(ge=0)
    rectified: int = Field(ge=0)
    rate: Exact | None
    overdue: int = Field(ge=0)
    rework: int = Field(ge=0)
    on_time: int = Field(ge=0)
    on_time_rate: Exact | None


class RankedUnit(Counts):
    """One row of a category's ranking (R4.3-R4.4); ``bottom_rank`` counts from the bottom."""

    unit_id: UnitId
    name: ShortText
    parent_id: UnitId | None
    rank: int = Field(ge=1)
    bottom_rank: int = Field(ge=1)
    composite: Exact
    score: MonthScore | None


class CategoryBoard(Contract):
    """The ranking of one category with its red and black lists (R4.5-R4.7), in rank order."""

    rows: Annotated[list[RankedUnit], Field(max_length=MAX_UNITS)]
    red: Annotated[list[UnitId], Field(max_length=MAX_UNITS)]
    black: Annotated[list[UnitId], Field(max_length=MAX_UNITS)]


class Categories(Contract):
    """Every category appears, ranked units or not."""

    department: CategoryBoard
    district: CategoryBoard
    town: CategoryBoard


class EditionPublished(Event):
    """R4.1, R7: one revision of an edition of the red and black lists (红黑榜).

    ``aggregate_id`` is ``edition-<year>-<number>`` and ``aggregate_version`` equals
    ``revision``. ``input_positions`` gives, per stream, the highest sequence up to which every
    event was applied; recomputing from those positions with ``rule_version`` gives the same
    bytes (canonical JSON).
    """

    SUBJECT = "ranking.v1.edition_published"
    type: Literal["ranking.v1.edition_published"] = "ranking.v1.edition_published"
    year: int = Field(ge=2000, le=2200)
    number: int = Field(ge=1)
    revision: int = Field(ge=1)
    cutoff: AwareDatetime
    published_at: AwareDatetime
    rule_version: ShortText
    input_positions: dict[str, Annotated[int, Field(ge=0)]]
    categories: Categories
    campaign: Counts


class UnitRateReport(Counts):
    """R3.5: one unit's weekly figures, with its rank in its category if it was ranked."""

    unit_id: UnitId
    name: ShortText
    category: UnitCategory
    rank: int | None = Field(None, ge=1)


class RatesPublished(Event):
    """R3.5: the weekly rate report for every ranked unit, sent with each edition revision."""

    SUBJECT = "ranking.v1.rates_published"
    type: Literal["ranking.v1.rates_published"] = "ranking.v1.rates_published"
    year: int = Field(ge=2000, le=2200)
    number: int = Field(ge=1)
    revision: int = Field(ge=1)
    cutoff: AwareDatetime
    rule_version: ShortText
    units: Annotated[list[UnitRateReport], Field(max_length=MAX_UNITS)]
