from datetime import timedelta

import pytest

from services.ranking.domain.units import Category, UnitEventKind, UnitFact, unit_as_of
from tests.unit.ranking.factories import CUTOFF, registered, unit_event


def test_deactivation_at_exactly_the_cutoff_counts() -> None:
    # R1.3 + R3: "at T" includes events at exactly T.
    facts = [registered("d1"), unit_event("d1", UnitEventKind.DEACTIVATED, CUTOFF, 2)]
    assert unit_as_of(facts, CUTOFF)["d1"].active is False
    assert unit_as_of(facts, CUTOFF - timedelta(seconds=1))["d1"].active is True


def test_unit_registered_after_the_cutoff_is_unknown_at_the_cutoff() -> None:
    assert unit_as_of([registered("d1", when=CUTOFF + timedelta(seconds=1))], CUTOFF) == {}


def test_category_and_parent_are_taken_as_of_the_cutoff() -> None:
    # R1.3: a town re-filed under another district after T still shows its old parent at T.
    facts = [
        registered("t1", Category.TOWN, parent_id="dist-a"),
        UnitFact(
            unit_id="t1",
            kind=UnitEventKind.UPDATED,
            occurred_at=CUTOFF + timedelta(days=1),
            aggregate_version=2,
            name="新名",
            category=Category.TOWN,
            parent_id="dist-b",
        ),
    ]
    assert unit_as_of(facts, CUTOFF)["t1"].parent_id == "dist-a"
    later = unit_as_of(facts, CUTOFF + timedelta(days=1))["t1"]
    assert (later.parent_id, later.name) == ("dist-b", "新名")


def test_arrival_order_and_repeats_do_not_change_the_snapshot() -> None:
    # R1.3: fold by (occurred_at, version); redelivered facts are dropped.
    facts = [
        registered("d1"),
        unit_event("d1", UnitEventKind.DEACTIVATED, CUTOFF - timedelta(days=2), 2),
        unit_event("d1", UnitEventKind.REACTIVATED, CUTOFF - timedelta(days=1), 3),
    ]
    shuffled = [facts[2], facts[1], facts[2], facts[0], facts[1]]
    assert unit_as_of(shuffled, CUTOFF) == unit_as_of(facts, CUTOFF)
    assert unit_as_of(shuffled, CUTOFF)["d1"].active is True


def test_two_different_facts_with_one_version_are_refused() -> None:
    facts = [registered("d1"), registered("d1", name="另一个")]
    with pytest.raises(ValueError, match="conflicting unit facts"):
        unit_as_of(facts, CUTOFF)


def test_plain_strings_from_decoded_events_are_accepted() -> None:
    fact = UnitFact(
        unit_id="t1",
        kind="registered",  # type: ignore[arg-type]
        occurred_at=CUTOFF,
        aggregate_version=1,
        name="白沙街道",
        category="town",  # type: ignore[arg-type]
        parent_id="dist-pengjiang",
    )
    assert unit_as_of([fact], CUTOFF)["t1"].category is Category.TOWN
    with pytest.raises(ValueError, match="village"):
        UnitFact(
            unit_id="x",
            kind=UnitEventKind.UPDATED,
            occurred_at=CUTOFF,
            aggregate_version=2,
            name="x",
            category="village",  # type: ignore[arg-type]
        )
