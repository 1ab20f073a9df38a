"""The golden year (R6.2-R6.3): 2018's 53 scheduled editions spend the fund exactly."""

from fractions import Fraction

from services.incentives.domain.calendar import planned_editions
from services.incentives.domain.ledger import LedgerState
from services.incentives.domain.settlement import RedListedUnit, Settlement, decide, evolve
from tests.unit.incentives.builders import edition, red

FUND = 800_000_000
YEAR = 2018


def red_units(number: int) -> tuple[RedListedUnit, ...]:
    """A varied red list: five departments and a district with exact, uneven scores."""
    return (
        *(red(f"dept-{i}", Fraction(8000 + 31 * number + 11 * i, 100)) for i in range(5)),
        red("dist-a", Fraction(701 + number, 8), "district"),
    )


def settle_year(unpaid: frozenset[int] = frozenset()) -> tuple[LedgerState, list[Settlement]]:
    """Settle editions 1..E of 2018 in order; those in ``unpaid`` red-list only a town."""
    state = LedgerState(year=YEAR, fund=FUND, planned_editions=planned_editions(YEAR))
    settlements = []
    for number in range(1, state.planned_editions + 1):
        units = (red("town-a", 95, "town"),) if number in unpaid else red_units(number)
        settlement = decide(state, edition(number, *units, year=YEAR))
        settlements.append(settlement)
        state = evolve(state, settlement)
    return state, settlements


def test_2018_has_53_planned_editions() -> None:
    assert planned_editions(YEAR) == 53


def test_a_year_of_editions_that_all_have_red_units_allocates_exactly_the_fund() -> None:
    state, settlements = settle_year()
    assert state.allocated == FUND
    assert state.remaining == 0
    assert state.settled == 53
    assert all(sum(e.fen for e in s.entries) == s.pool for s in settlements)
    assert sum(s.pool for s in settlements) == FUND
    assert settlements[0].pool == FUND // 53 == 15_094_339


def test_the_last_planned_edition_takes_what_remains() -> None:
    _, settlements = settle_year()
    *earlier, last = settlements
    assert last.pool == FUND - sum(s.pool for s in earlier)
    assert last.remaining == 0


def test_an_edition_without_eligible_red_units_keeps_its_pool_and_still_counts() -> None:
    state, settlements = settle_year(unpaid=frozenset({20}))
    unpaid = settlements[19]
    assert unpaid.entries == () and unpaid.pool > 0 and unpaid.record is not None
    assert state.settled == 53  # R6.2: it counts towards k
    # Its pool stayed in remaining and the later editions spread it: the year still spends all.
    assert state.allocated == FUND
    assert settlements[20].pool > settlements[18].pool


def test_an_unpaid_last_edition_leaves_its_pool_in_remaining() -> None:
    state, settlements = settle_year(unpaid=frozenset({53}))
    assert state.settled == 53
    assert state.remaining == settlements[-1].pool > 0
    assert state.allocated + state.remaining == FUND
