"""Hypothesis properties of the whole rule chain (STYLE 8: any order or duplication of the same
events must give the same edition)."""

from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ranking.domain.edition import EditionContent, compute_edition
from services.ranking.domain.issues import IssueFact, IssueKind
from services.ranking.domain.payload import content_digest
from services.ranking.domain.rules import RankingRules
from services.ranking.domain.scores import AssessmentScore
from services.ranking.domain.units import Category, UnitEventKind, UnitFact
from tests.unit.ranking.factories import CUTOFF, SHANGHAI, at, registered, reported, unit_event

UNITS = [("d1", Category.DEPARTMENT), ("d2", Category.DEPARTMENT), ("d3", Category.DEPARTMENT)]
UNITS += [("d4", Category.DEPARTMENT), ("dist-a", Category.DISTRICT)]
UNITS += [("dist-b", Category.DISTRICT), ("t1", Category.TOWN), ("t2", Category.TOWN)]
UNIT_IDS = [unit_id for unit_id, _ in UNITS]
# Days after EARLY; the cutoff is ~34 days after it, so some facts fall after the cutoff.
DAYS = st.integers(min_value=0, max_value=40)
STEPS = [IssueKind.RECTIFIED, IssueKind.VERIFIED, IssueKind.REOPENED, IssueKind.VOIDED]
STEPS += [IssueKind.TRANSFERRED, IssueKind.EXTENDED]


@dataclass(frozen=True)
class Facts:
    units: list[UnitFact]
    issues: list[IssueFact]
    scores: list[AssessmentScore]


@st.composite
def campaigns(draw: st.DrawFn) -> Facts:
    units: list[UnitFact] = []
    for unit_id, category in UNITS:
        parent = "dist-a" if category is Category.TOWN else None
        units.append(registered(unit_id, category, parent_id=parent, when=at(draw(DAYS) - 20)))
        if draw(st.booleans()):
            units.append(unit_event(unit_id, UnitEventKind.DEACTIVATED, at(draw(DAYS)), 2))
    issues: list[IssueFact] = []
    for n in range(draw(st.integers(min_value=0, max_value=12))):
        issue_id, day = f"i{n}", draw(DAYS)
        issues.append(reported(issue_id, draw(st.sampled_from(UNIT_IDS)), when=at(day)))
        for version, kind in enumerate(draw(st.lists(st.sampled_from(STEPS), max_size=4)), 2):
            day += draw(st.integers(min_value=0, max_value=4))
            new_unit = draw(st.sampled_from(UNIT_IDS)) if kind is IssueKind.TRANSFERRED else None
            deadline = at(day + 5) if kind is IssueKind.EXTENDED else None
            issues.append(
                IssueFact(
                    issue_id=issue_id,
                    kind=kind,
                    occurred_at=at(day),
                    aggregate_version=version,
                    unit_id=new_unit,
                    deadline=deadline,
                )
            )
    scores = [
        AssessmentScore(
            event_id=f"s{n}",
            unit_id=draw(st.sampled_from(UNIT_IDS)),
            month=(2018, draw(st.integers(min_value=4, max_value=7))),
            score=Fraction(draw(st.integers(min_value=0, max_value=10000)), 100),
            occurred_at=at(draw(st.sampled_from([0, 10, 34, 40]))),
        )
        for n in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    return Facts(units, issues, scores)


RULES = RankingRules(version="v1")
F = TypeVar("F")


def _edition(facts: Facts) -> EditionContent:
    return compute_edition(
        cutoff=CUTOFF,
        rules=RULES,
        tz=SHANGHAI,
        unit_facts=facts.units,
        issue_facts=facts.issues,
        scores=facts.scores,
    )


def _redelivered(data: st.DataObject, items: list[F]) -> list[F]:
    """The same facts in any order, some of them more than once (at-least-once delivery)."""
    repeats = data.draw(st.lists(st.sampled_from(items), max_size=5)) if items else []
    return data.draw(st.permutations([*items, *repeats]))


@settings(max_examples=40, deadline=None)
@given(campaigns(), st.data())
def test_any_order_or_duplication_of_facts_gives_the_same_edition(
    facts: Facts, data: st.DataObject
) -> None:
    # R1.3, R2, R4.2: folds are keyed by version / event id, so arrival order and redelivery
    # cannot change an edition.
    mixed = Facts(
        units=_redelivered(data, facts.units),
        issues=_redelivered(data, facts.issues),
        scores=_redelivered(data, facts.scores),
    )
    original, again = _edition(facts), _edition(mixed)
    assert original == again
    assert content_digest(original) == content_digest(again)


@settings(max_examples=40, deadline=None)
@given(campaigns())
def test_lists_are_disjoint_and_respect_ranks(facts: Facts) -> None:
    # R4.4-R4.6 invariants on any campaign.
    edition = _edition(facts)
    for part in edition.categories:
        rows = {row.unit_id: row for row in part.rows}
        assert not set(part.red) & set(part.black)
        assert all(rows[u].rank <= RULES.red.for_category(part.category) for u in part.red)
        black_size = RULES.black.for_category(part.category)
        assert all(rows[u].bottom_rank <= black_size for u in part.black)
        ranks = [row.rank for row in part.rows]
        assert ranks == sorted(ranks)
        for row in part.rows:
            assert row.rank == 1 + sum(other.composite > row.composite for other in part.rows)
            assert row.reported >= row.rectified >= 0
    # R3.4: campaign totals include inactive and unranked units.
    assert edition.totals.reported >= sum(
        row.reported for part in edition.categories for row in part.rows
    )


def _counts_by(fact: IssueFact) -> bool:
    # R3: an issue counts from its reported_at, every other change from its occurred_at.
    if fact.kind is IssueKind.REPORTED and fact.reported_at is not None:
        return fact.reported_at <= CUTOFF
    return fact.occurred_at <= CUTOFF


@settings(max_examples=30, deadline=None)
@given(campaigns())
def test_facts_after_the_cutoff_never_change_the_edition(facts: Facts) -> None:
    # R3 / R4.2: only what happened at or before T counts.
    early_facts = Facts(
        units=[f for f in facts.units if f.occurred_at <= CUTOFF],
        issues=[f for f in facts.issues if _counts_by(f)],
        scores=[s for s in facts.scores if s.occurred_at <= CUTOFF],
    )
    assert _edition(early_facts) == _edition(facts)
