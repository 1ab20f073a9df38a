from datetime import datetime, timedelta
from fractions import Fraction

from services.ranking.domain.issues import (
    IssueFact,
    IssueKind,
    IssueSnapshot,
    IssueState,
    issue_as_of,
    issues_as_of,
)
from services.ranking.domain.rates import campaign_totals, unit_rates
from tests.unit.ranking.factories import CUTOFF, EARLY, at, issue_event, reported


def _snapshot(facts: list[IssueFact], when: datetime) -> IssueSnapshot:
    snapshot = issue_as_of(facts, when)
    assert snapshot is not None
    return snapshot


def test_issue_counts_from_its_reported_at_even_when_imported_later() -> None:
    # R3 / R2.1: an imported record sets reported_at before the event's occurred_at.
    fact = reported("i1", "d1", when=EARLY, occurred_at=CUTOFF + timedelta(days=10))
    snapshot = issue_as_of([fact], CUTOFF)
    assert snapshot is not None
    assert snapshot.unit_id == "d1"
    assert issue_as_of([reported("i2", "d1", when=CUTOFF + timedelta(seconds=1))], CUTOFF) is None


def test_issue_reported_at_exactly_the_cutoff_counts() -> None:
    # R3.1: reported_at <= T.
    assert issue_as_of([reported("i1", "d1", when=CUTOFF)], CUTOFF) is not None


def test_void_issue_leaves_every_count() -> None:
    # R2.3 / R3.1: void at T removes the issue from reported, rectified, overdue and rework.
    facts = [
        reported("i1", "d1"),
        issue_event("i1", IssueKind.RECTIFIED, at(1), 2),
        issue_event("i1", IssueKind.REOPENED, at(2), 3),
        issue_event("i1", IssueKind.VOIDED, at(3), 4),
        reported("i2", "d1"),
    ]
    rates = unit_rates(issues_as_of(facts, CUTOFF).values())
    assert (rates["d1"].reported, rates["d1"].rework, rates["d1"].on_time) == (1, 0, 0)
    assert campaign_totals(issues_as_of(facts, CUTOFF).values()).reported == 1


def test_transfer_moves_the_issue_only_for_cutoffs_after_it() -> None:
    # R2.6: cutoffs before the transfer still see the old unit.
    facts = [reported("i1", "d1"), issue_event("i1", IssueKind.TRANSFERRED, at(5), 2, unit_id="d2")]
    before = unit_rates(issues_as_of(facts, at(4)).values())
    after = unit_rates(issues_as_of(facts, at(5)).values())
    assert set(before) == {"d1"}
    assert set(after) == {"d2"}
    assert issues_as_of(facts, at(5))["i1"].reported_at == EARLY  # keeps its reported_at


def test_overdue_only_strictly_after_the_deadline_and_only_while_open() -> None:
    # R2.4: overdue while open/reopened after the deadline.
    facts = [reported("i1", "d1", deadline=at(3))]
    assert _snapshot(facts, at(3)).overdue is False
    assert _snapshot(facts, at(3.5)).overdue is True
    rectified = [*facts, issue_event("i1", IssueKind.RECTIFIED, at(4), 2)]
    assert _snapshot(rectified, at(5)).overdue is False


def test_extension_replaces_the_deadline_from_its_approval_on() -> None:
    # R2.6: an approved extension replaces the deadline from then on.
    facts = [
        reported("i1", "d1", deadline=at(3)),
        issue_event("i1", IssueKind.EXTENDED, at(4), 2, deadline=at(10)),
    ]
    assert _snapshot(facts, at(3.5)).overdue is True
    assert _snapshot(facts, at(4)).overdue is False


def test_reopening_after_an_on_time_fix_keeps_it_on_time_and_adds_rework() -> None:
    # R3.5: a later reopening does not undo "on time"; R2.3: rework_count +1 per reopening;
    # a reopened issue keeps its original deadline and is overdue again after it.
    facts = [
        reported("i1", "d1", deadline=at(3)),
        issue_event("i1", IssueKind.RECTIFIED, at(2), 2),
        issue_event("i1", IssueKind.VERIFIED, at(4), 3),
        issue_event("i1", IssueKind.REOPENED, at(5), 4),
        issue_event("i1", IssueKind.RECTIFIED, at(6), 5),
        issue_event("i1", IssueKind.REOPENED, at(7), 6),
    ]
    snapshot = issue_as_of(facts, at(8))
    assert snapshot is not None
    assert snapshot.state is IssueState.REOPENED
    assert (snapshot.rework_count, snapshot.on_time, snapshot.overdue) == (2, True, True)
    assert snapshot.first_rectified_at == at(2)
    rate = unit_rates([snapshot])["d1"]
    assert (rate.rectified, rate.on_time_rate, rate.rework) == (0, Fraction(1), 2)


def test_late_first_fix_is_not_on_time() -> None:
    # R3.5: first rectified after the deadline.
    facts = [reported("i1", "d1", deadline=at(3)), issue_event("i1", IssueKind.RECTIFIED, at(4), 2)]
    snapshot = issue_as_of(facts, CUTOFF)
    assert snapshot is not None
    assert (snapshot.is_rectified, snapshot.on_time) == (True, False)


def test_rate_is_undefined_without_reported_issues() -> None:
    # R3.3: undefined when reported = 0.
    assert campaign_totals([]).rate is None
