"""R6.2-R6.4: settling editions against the year's fund, as a pure decision."""

import pytest

from services.incentives.domain.ledger import LedgerEntry, LedgerState, ledger_state
from services.incentives.domain.settlement import (
    EditionSummary,
    Settlement,
    decide,
    evolve,
    waits_for,
)
from tests.unit.incentives.builders import edition, red


def year_2018(fund: int = 800_000_000, planned: int = 53) -> LedgerState:
    return LedgerState(year=2018, fund=fund, planned_editions=planned)


def settle(state: LedgerState, *editions: EditionSummary) -> tuple[LedgerState, list[Settlement]]:
    settlements = []
    for summary in editions:
        settlement = decide(state, summary)
        state = evolve(state, settlement)
        settlements.append(settlement)
    return state, settlements


def paid(settlement: Settlement) -> dict[str, int]:
    return {entry.unit_id: entry.fen for entry in settlement.entries}


def test_worked_example_first_edition_of_2018_splits_15_094_339_fen() -> None:
    result = decide(year_2018(), edition(1, red("dept-a", 90), red("dist-b", 90, "district")))
    assert result.outcome == "allocated"
    assert result.pool == 15_094_339
    assert paid(result) == {"dept-a": 7_547_170, "dist-b": 7_547_169}
    assert result.remaining == 800_000_000 - 15_094_339


def test_allocation_entries_carry_edition_revision_rule_version_and_source() -> None:
    result = decide(year_2018(fund=100, planned=1), edition(3, red("dept-a", 80)))
    assert result.entries == (
        LedgerEntry(2018, 3, 1, "dept-a", 100, "allocation", "v1", "evt-2018-3-1"),
    )
    assert result.record is not None
    assert (result.record.edition, result.record.revision, result.record.pool) == (3, 1, 100)


def test_towns_and_black_listed_units_are_never_paid() -> None:
    summary = edition(
        1,
        red("town-x", 99, "town"),
        red("dept-a", 90),
        red("dept-b", 80),
        black=frozenset({"dept-b"}),
    )
    result = decide(year_2018(fund=1_000, planned=1), summary)
    assert paid(result) == {"dept-a": 1_000}


def test_an_edition_without_eligible_red_units_keeps_its_pool_but_counts_as_settled() -> None:
    state, [first, second] = settle(
        year_2018(fund=1_000, planned=4),
        edition(1, red("town-x", 99, "town")),
        edition(2, red("dept-a", 90)),
    )
    assert first.outcome == "allocated"
    assert first.entries == ()
    assert first.pool == 250
    assert first.remaining == 1_000
    # R6.2: k = 1 although edition 1 paid nothing, so the pool is 1000 // 3.
    assert second.pool == 333
    assert state.settled == 2


def test_all_zero_scores_leave_the_pool_in_remaining() -> None:
    result = decide(year_2018(fund=1_000, planned=2), edition(1, red("dept-a", 0)))
    assert result.entries == ()
    assert result.remaining == 1_000


def test_the_last_planned_edition_takes_all_that_remains() -> None:
    state, settlements = settle(
        year_2018(fund=1_000, planned=3),
        edition(1, red("dept-a", 90)),
        edition(2, red("town-x", 90, "town")),
        edition(3, red("dept-a", 90)),
    )
    assert [s.pool for s in settlements] == [333, 333, 667]
    assert state.allocated == 1_000
    assert state.remaining == 0


def test_a_redelivered_edition_adds_no_money() -> None:
    once, _ = settle(year_2018(), edition(1, red("dept-a", 90)))
    result = decide(once, edition(1, red("dept-a", 90)))
    assert result.outcome == "ignored"
    assert result.entries == ()
    assert result.record is None
    assert evolve(once, result) == once


def test_a_revision_lower_than_one_settled_adds_nothing() -> None:
    state, _ = settle(year_2018(), edition(1, red("dept-a", 90), revision=2))
    result = decide(state, edition(1, red("dept-b", 90), revision=1))
    assert result.outcome == "ignored"
    assert result.entries == ()


def test_a_new_revision_resplits_the_original_pool_and_books_differences() -> None:
    state, [first, revised] = settle(
        year_2018(fund=1_000, planned=4),
        edition(1, red("dept-a", 60), red("dept-b", 40)),
        edition(1, red("dept-a", 50), red("dept-c", 50), revision=2),
    )
    assert paid(first) == {"dept-a": 150, "dept-b": 100}
    assert revised.outcome == "adjusted"
    assert revised.pool == 250
    assert paid(revised) == {"dept-a": -25, "dept-b": -100, "dept-c": 125}
    assert {e.kind for e in revised.entries} == {"adjustment"}
    assert state.allocated == 250
    assert state.editions[1].paid == {"dept-a": 125, "dept-c": 125}


def test_a_revision_does_not_count_towards_k() -> None:
    state, settlements = settle(
        year_2018(fund=1_000, planned=4),
        edition(1, red("dept-a", 90)),
        edition(1, red("dept-b", 90), revision=2),
        edition(2, red("dept-a", 90)),
    )
    assert state.settled == 2
    assert settlements[2].pool == 750 // 3


def test_a_revision_that_empties_the_red_list_returns_the_money() -> None:
    state, [_, revised] = settle(
        year_2018(fund=1_000, planned=4),
        edition(1, red("dept-a", 90)),
        edition(1, revision=2),
    )
    assert paid(revised) == {"dept-a": -250}
    assert revised.remaining == 1_000
    assert state.allocated == 0
    assert state.settled == 1


def test_a_revision_cannot_spend_what_later_editions_already_took() -> None:
    # Edition 1 paid nothing; edition 2 (the last planned) took everything; a revision of
    # edition 1 that now has red units may only re-split remaining + what it paid: 0.
    state, [_, second, revised] = settle(
        year_2018(fund=100, planned=2),
        edition(1, red("town-x", 90, "town")),
        edition(2, red("dept-a", 90)),
        edition(1, red("dept-b", 90), revision=2),
    )
    assert second.pool == 100
    assert revised.pool == 50
    assert revised.split == 0
    assert revised.entries == ()
    assert state.allocated == 100
    assert state.editions[1].revision == 2


def test_an_edition_of_another_year_is_rejected() -> None:
    with pytest.raises(ValueError, match="year"):
        decide(year_2018(), edition(1, red("dept-a", 90), year=2019))


def test_an_edition_naming_a_unit_twice_is_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        edition(1, red("dept-a", 90), red("dept-a", 80))


def test_state_rebuilt_from_stored_rows_equals_the_evolved_state() -> None:
    state, settlements = settle(
        year_2018(fund=10_000, planned=5),
        edition(1, red("dept-a", 60), red("dist-b", 40, "district")),
        edition(2, red("town-x", 90, "town")),
        edition(1, red("dept-a", 10), revision=2),
        edition(1, red("dept-a", 10), revision=2),
        edition(3, red("dept-c", 70)),
    )
    records = [s.record for s in settlements if s.record is not None]
    entries = [e for s in settlements for e in s.entries]
    rebuilt = ledger_state(2018, 10_000, 5, reversed(records), reversed(entries))
    assert rebuilt == state


def test_rebuilding_rejects_entries_of_an_unsettled_edition() -> None:
    entry = LedgerEntry(2018, 1, 1, "dept-a", 5, "allocation", "v1", "evt")
    with pytest.raises(ValueError, match="never settled"):
        ledger_state(2018, 100, 2, [], [entry])


def test_the_first_revision_of_an_edition_waits_for_the_one_before_it() -> None:
    """R6.2: strictly in order of first publication (edition numbers within the year)."""
    state = LedgerState(year=2018, fund=800_000_000, planned_editions=53)
    second = edition(number=2)
    assert waits_for(state, second) == 1
    assert waits_for(state, edition(number=1)) is None
    state = evolve(state, decide(state, edition(number=1)))
    assert waits_for(state, second) is None


def test_a_later_revision_of_a_settled_edition_never_waits() -> None:
    """R6.4: a revision re-splits its own edition's pool; nothing else is needed first."""
    state = LedgerState(year=2018, fund=800_000_000, planned_editions=53)
    state = evolve(state, decide(state, edition(number=1)))
    state = evolve(state, decide(state, edition(number=2)))
    assert waits_for(state, edition(number=1, revision=2)) is None
