"""Computing an edition of the red and black lists (红黑榜, R4) at a cutoff T.

`compute_edition` is the whole rule chain as one pure function of the facts: unit directory as
of T (R1.3), issue states as of T (R2), rates (R3), assessment scores (R4.2), composite (R4.3),
ranks (R4.4) and lists (R4.5-R4.8). Its result holds only what the facts decide; edition number,
revision, input positions and publication time are added by `payload.edition_payload`, so that
two computations can be compared for "same content" (R4.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from services.ranking.domain.composite import CompositeWeights, rate_component
from services.ranking.domain.instants import Month, edition_year, month_of, require_aware
from services.ranking.domain.issues import IssueFact, issues_as_of
from services.ranking.domain.lists import red_and_black, standing
from services.ranking.domain.rates import RateCounts, UnitRate, total_of, unit_rates
from services.ranking.domain.rules import RankingRules
from services.ranking.domain.scores import AssessmentScore, scores_as_of
from services.ranking.domain.units import Category, UnitFact, UnitSnapshot, unit_as_of

__all__ = ["CategoryEdition", "EditionContent", "RankingRow", "compute_edition", "rank_edition"]


@dataclass(frozen=True, kw_only=True)
class RankingRow(RateCounts):
    """One ranked unit in an edition, with its R3 counts (and so its ``rate`` and
    ``on_time_rate``).

    ``rate`` is the unit's R3.3 rate whether or not it entered ``composite`` (R4.8 drops it from
    the composite below ``min_issues``); ``score``/``score_month`` are the R4.2 score used, if any.
    """

    unit_id: str
    name: str
    parent_id: str | None
    rank: int
    bottom_rank: int
    composite: Fraction
    score: Fraction | None
    score_month: Month | None


@dataclass(frozen=True, kw_only=True)
class CategoryEdition:
    """One category's table and lists. Rows and lists are in rank order, ties by ``unit_id``."""

    category: Category
    rows: tuple[RankingRow, ...]
    red: tuple[str, ...]
    black: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class EditionContent:
    """What an edition says (R4.1 "content"): everything except number, revision, input positions
    and publication time. ``year`` is the R4.1 campaign year of ``cutoff``; ``categories`` holds
    every category, in `Category` order, even when one has no ranked unit."""

    cutoff: datetime
    year: int
    rule_version: str
    categories: tuple[CategoryEdition, ...]
    totals: RateCounts

    def category(self, category: Category) -> CategoryEdition:
        """The part of the edition for ``category``."""
        for part in self.categories:
            if part.category is category:
                return part
        raise KeyError(category)


def compute_edition(
    *,
    cutoff: datetime,
    rules: RankingRules,
    tz: ZoneInfo,
    unit_facts: Iterable[UnitFact],
    issue_facts: Iterable[IssueFact],
    scores: Iterable[AssessmentScore],
) -> EditionContent:
    """R1.3, R3, R4.2-R4.8: the edition with cutoff ``cutoff`` under ``rules``.

    Facts may come in any order and more than once; only facts at or before the cutoff are used
    (R4.2: a score recorded after T never changes this edition). ``tz`` is the campaign's zone
    (Asia/Shanghai), used for the month of T (R4.2) and the edition's year (R4.1).
    """
    require_aware(cutoff, "cutoff")
    issues = issues_as_of(issue_facts, cutoff)
    return rank_edition(
        cutoff=cutoff,
        rules=rules,
        tz=tz,
        unit_facts=unit_facts,
        rates=unit_rates(issues.values()),
        scores=scores,
    )


def rank_edition(
    *,
    cutoff: datetime,
    rules: RankingRules,
    tz: ZoneInfo,
    unit_facts: Iterable[UnitFact],
    rates: Mapping[str, UnitRate],
    scores: Iterable[AssessmentScore],
) -> EditionContent:
    """R1.3, R4.2-R4.8: the edition from every unit's R3 counts at ``cutoff`` (``rates``: units
    with no counted issue may be absent), e.g. counted by the database from issue summaries.
    `compute_edition` is this after folding the issue facts itself; both give the same edition
    for the same facts."""
    require_aware(cutoff, "cutoff")
    units = unit_as_of(unit_facts, cutoff)
    chosen = scores_as_of(scores, cutoff, month_of(cutoff, tz))
    categories = tuple(
        _category_edition(
            category,
            # R4.8: inactive units (as of T, R1.3) are not ranked at all.
            [u for u in units.values() if u.category is category and u.active],
            rates,
            chosen,
            rules,
        )
        for category in Category
    )
    return EditionContent(
        cutoff=cutoff,
        year=edition_year(cutoff, tz),
        rule_version=rules.version,
        categories=categories,
        # R3.4: campaign-wide, inactive units included.
        totals=total_of(rates.values()),
    )


def _category_edition(
    category: Category,
    units: list[UnitSnapshot],
    rates: Mapping[str, UnitRate],
    chosen: dict[str, AssessmentScore],
    rules: RankingRules,
) -> CategoryEdition:
    counts = {u.unit_id: rates.get(u.unit_id) or UnitRate(unit_id=u.unit_id) for u in units}
    weights = CompositeWeights.of(rules)
    composites: dict[str, Fraction] = {}
    for unit in units:
        rate = counts[unit.unit_id]
        score = chosen.get(unit.unit_id)
        s = weights.score(
            rate_component(rate.rate, rate.reported, rules),
            None if score is None else score.score,
        )
        if s is not None:  # R4.3: a unit with neither component is not ranked.
            composites[unit.unit_id] = s
    ranks = standing(composites)
    top, bottom = ranks.top, ranks.bottom
    lists = red_and_black(
        composites,
        rules.red.for_category(category),
        rules.black.for_category(category),
        rules.black_exempt_at,
        top=top,
        bottom=bottom,
    )
    by_id = {u.unit_id: u for u in units}
    order = ranks.order  # ties by unit_id, for presentation only (R4.4)
    rows = tuple(
        _row(by_id[u], counts[u], chosen.get(u), composites[u], top[u], bottom[u]) for u in order
    )
    return CategoryEdition(
        category=category,
        rows=rows,
        red=tuple(u for u in order if u in lists.red),
        black=tuple(u for u in order if u in lists.black),
    )


def _row(
    unit: UnitSnapshot,
    rate: UnitRate,
    score: AssessmentScore | None,
    composite: Fraction,
    rank: int,
    bottom_rank: int,
) -> RankingRow:
    return RankingRow(
        unit_id=unit.unit_id,
        name=unit.name,
        parent_id=unit.parent_id,
        rank=rank,
        bottom_rank=bottom_rank,
        composite=composite,
        score=None if score is None else score.score,
        score_month=None if score is None else score.month,
        reported=rate.reported,
        rectified=rate.rectified,
        overdue=rate.overdue,
        rework=rate.rework,
        on_time=rate.on_time,
    )
