"""R6.4 properties: any sequence of editions, redeliveries and revisions stays within the fund."""

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.incentives.domain.ledger import (
    LedgerEntry,
    LedgerState,
    SettledRevision,
    ledger_state,
)
from services.incentives.domain.settlement import (
    EditionSummary,
    RedListedUnit,
    decide,
    evolve,
    payable_scores,
)
from tests.unit.incentives.builders import edition

RED_UNITS = st.builds(
    RedListedUnit,
    unit_id=st.sampled_from(["dept-a", "dept-b", "dept-c", "dist-d", "town-e"]),
    category=st.sampled_from(["department", "district", "town"]),
    score=st.builds(Fraction, st.integers(0, 10_000), st.just(100)),
)
RED_LISTS = st.lists(RED_UNITS, max_size=5, unique_by=lambda u: u.unit_id)
BLACK = st.frozensets(st.sampled_from(["dept-a", "dept-b", "dist-d"]), max_size=1)


@dataclass(frozen=True)
class Publish:
    red: list[RedListedUnit]
    black: frozenset[str]


@dataclass(frozen=True)
class Redeliver:
    pick: int


@dataclass(frozen=True)
class Revise:
    pick: int
    red: list[RedListedUnit]
    black: frozenset[str]


STEPS = st.lists(
    st.one_of(
        st.builds(Publish, RED_LISTS, BLACK),
        st.builds(Redeliver, st.integers(0, 100)),
        st.builds(Revise, st.integers(0, 100), RED_LISTS, BLACK),
    ),
    max_size=25,
)


@given(fund=st.integers(0, 10**7), planned=st.integers(1, 8), steps=STEPS)
def test_no_sequence_of_settlements_exceeds_the_fund(
    fund: int, planned: int, steps: list[Publish | Redeliver | Revise]
) -> None:
    state = LedgerState(year=2018, fund=fund, planned_editions=planned)
    published: list[EditionSummary] = []  # every revision published so far
    records: list[SettledRevision] = []
    entries: list[LedgerEntry] = []
    for step in steps:
        if isinstance(step, Publish):
            summary = edition(len({e.number for e in published}) + 1, *step.red, black=step.black)
        elif not published:
            continue
        elif isinstance(step, Redeliver):
            summary = published[step.pick % len(published)]
        else:
            number = published[step.pick % len(published)].number
            revision = max(e.revision for e in published if e.number == number) + 1
            summary = edition(number, *step.red, revision=revision, black=step.black)
        published.append(summary)

        before = state
        settlement = decide(state, summary)
        state = evolve(state, settlement)

        if isinstance(step, Redeliver):  # R6.4: a redelivery adds nothing
            assert settlement.outcome == "ignored"
            assert settlement.entries == ()
            assert state == before
        if isinstance(step, Revise):  # R6.4: revisions do not count towards k
            assert state.settled == before.settled
        if settlement.record is not None:
            records.append(settlement.record)
            entries.extend(settlement.entries)
            # R6.3: the edition now pays only units its latest revision lists as payable.
            payable = {u for u, s in payable_scores(summary).items() if s > 0}
            assert set(state.editions[summary.number].paid) <= payable

        assert 0 <= state.allocated <= fund  # R6.4
        assert settlement.remaining == fund - state.allocated
        assert sum(e.fen for e in entries) == state.allocated
        for account in state.editions.values():
            # R6.4: an edition pays at most its original pool and never a negative net share.
            assert 0 <= account.total_paid <= account.pool
            assert all(fen > 0 for fen in account.paid.values())

    rebuilt = ledger_state(2018, fund, planned, reversed(records), reversed(entries))
    assert rebuilt == state


@given(fund=st.integers(0, 10**9), planned=st.integers(1, 60), scores=RED_LISTS)
def test_first_revision_spends_its_whole_pool_when_anyone_is_payable(
    fund: int, planned: int, scores: list[RedListedUnit]
) -> None:
    summary = edition(1, *scores)
    settlement = decide(LedgerState(year=2018, fund=fund, planned_editions=planned), summary)
    spent = sum(e.fen for e in settlement.entries)
    if any(s > 0 for s in payable_scores(summary).values()):
        assert spent == settlement.pool
    else:
        assert spent == 0
    assert settlement.pool == fund // planned
    assert Fraction(spent) <= fund
