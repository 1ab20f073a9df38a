"""R2.4: becoming overdue is an event, once per entry into the condition, never once per poll."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.issues.domain.lifecycle import (
    decide_extension,
    inspect,
    is_overdue,
    overdue_transition,
    overdue_transitions,
    rectify,
    request_extension,
    transfer,
)
from tests.unit.issues.factories import reported, unit


def test_an_open_issue_is_overdue_only_strictly_after_its_deadline() -> None:
    # R2.4
    issue = reported()
    assert not is_overdue(issue, issue.deadline)
    assert is_overdue(issue, issue.deadline + timedelta(microseconds=1))


def test_a_rectified_or_void_issue_is_not_overdue() -> None:
    # R2.4
    issue, _ = rectify(reported(), reported().deadline + timedelta(days=1), ["fix"])
    assert not is_overdue(issue, issue.deadline + timedelta(days=30))


def test_the_overdue_event_is_emitted_once_however_often_the_poller_asks() -> None:
    # R2.4
    issue = reported()
    assert overdue_transition(issue, issue.deadline) is None
    entered = overdue_transition(issue, issue.deadline + timedelta(minutes=1))
    assert entered is not None
    issue, event = entered
    assert (event.kind, event.version, event.deadline) == ("overdue", 2, issue.deadline)
    assert issue.overdue_emitted
    for minutes in (2, 60, 6000):
        assert overdue_transition(issue, issue.deadline + timedelta(minutes=minutes)) is None


def test_reopening_after_the_deadline_enters_the_condition_again() -> None:
    # R2.4: "or it is reopened after its deadline"
    entered = overdue_transition(reported(), reported().deadline + timedelta(hours=1))
    assert entered is not None
    issue, _ = rectify(entered[0], entered[0].deadline + timedelta(hours=2), ["fix"])
    assert not issue.overdue_emitted
    issue, _ = inspect(issue, issue.deadline + timedelta(days=2), passed=False, note="")
    again = overdue_transition(issue, issue.deadline + timedelta(days=2, minutes=5))
    assert again is not None
    assert again[1].version == issue.version + 1


def test_an_approved_extension_ends_the_spell_and_the_new_deadline_can_pass_again() -> None:
    # R2.4, R2.6
    issue = reported()
    late = issue.deadline + timedelta(hours=1)
    entered = overdue_transition(issue, late)
    assert entered is not None
    issue, _ = request_extension(entered[0], late, issue.deadline + timedelta(days=3), "rain")
    issue, _ = decide_extension(issue, late + timedelta(hours=1), True, "ok")
    assert not issue.overdue_emitted
    assert overdue_transition(issue, issue.deadline) is None
    assert overdue_transition(issue, issue.deadline + timedelta(seconds=1)) is not None


def test_a_transfer_does_not_restart_the_spell() -> None:
    # R2.4: the condition continues; the new unit learns of it from the transfer
    issue = reported()
    entered = overdue_transition(issue, issue.deadline + timedelta(hours=1))
    assert entered is not None
    moved, _ = transfer(
        entered[0], unit("dist-pengjiang"), issue.deadline + timedelta(hours=2), "x"
    )
    assert moved.overdue_emitted
    assert overdue_transition(moved, moved.deadline + timedelta(hours=3)) is None


def test_a_poll_older_than_the_last_change_decides_nothing() -> None:
    issue = reported()
    moved, _ = transfer(issue, unit("dist-pengjiang"), issue.deadline + timedelta(hours=2), "x")
    assert overdue_transition(moved, issue.deadline + timedelta(hours=1)) is None


@given(st.lists(st.integers(min_value=-48, max_value=24 * 30), max_size=20))
def test_repeated_polls_emit_at_most_one_event_per_spell(poll_hours: list[int]) -> None:
    # R2.4: never once per poll
    issue = reported()
    emitted = 0
    for hours in sorted(poll_hours):
        found = overdue_transitions([issue], issue.deadline + timedelta(hours=hours))
        if found:
            ((issue, _),) = found
            emitted += 1
    assert emitted == (1 if any(h > 0 for h in poll_hours) else 0)
