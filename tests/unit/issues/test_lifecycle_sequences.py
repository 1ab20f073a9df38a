"""R2.3, R2.4, R2.6 under random command sequences (Hypothesis), and backfill replay (R2.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.issues.domain.backfill import HistoricalStep, replay
from services.issues.domain.errors import DomainError, InvalidTransition
from services.issues.domain.issue_events import IssueEvent
from services.issues.domain.lifecycle import (
    Issue,
    IssueState,
    decide_extension,
    inspect,
    is_overdue,
    overdue_transition,
    rectify,
    request_extension,
    transfer,
    void,
)
from tests.unit.issues.factories import T0, reported, unit

COMMANDS = ("rectify", "pass", "fail", "void", "transfer", "ask", "approve", "refuse", "poll")
OTHER = unit("dept-other")


def run(issue: Issue, command: str, hours: int) -> tuple[Issue, str]:
    at = issue.updated_at + timedelta(hours=hours)
    event: IssueEvent
    match command:
        case "rectify":
            new, event = rectify(issue, at, ["https://e/1.jpg"])
        case "pass" | "fail":
            new, event = inspect(issue, at, command == "pass", "")
        case "void":
            new, event = void(issue, at, "重复")
        case "transfer":
            to = OTHER if issue.unit_id != OTHER.unit_id else unit()
            new, event = transfer(issue, to, at, "职责调整")
        case "ask":
            new, event = request_extension(issue, at, issue.deadline + timedelta(days=2), "施工")
        case "approve" | "refuse":
            new, event = decide_extension(issue, at, command == "approve", "")
        case _:
            found = overdue_transition(issue, at)
            if found is None:
                return issue, "none"
            new, event = found
    return new, event.kind


@given(
    st.lists(st.tuples(st.sampled_from(COMMANDS), st.integers(0, 96)), max_size=30),
)
def test_no_command_sequence_leaves_the_rules(commands: list[tuple[str, int]]) -> None:
    # R2.3: only the five states; counts never negative; rework = failed inspections; void is
    # final. R2.4: one overdue event per entry into the condition, never one per poll.
    issue = reported(deadline_days=1)
    fails = accepted = overdue_events = entries = 0
    was_overdue = False
    first_rectified = None
    for command, hours in commands:
        try:
            new, kind = run(issue, command, hours)
        except DomainError:
            continue  # refused: the decision built nothing, ``issue`` is untouched
        if kind == "none":
            continue
        assert issue.state is not IssueState.VOID  # nothing leaves void
        accepted += 1
        fails += kind == "reopened"
        overdue_events += kind == "overdue"
        now_overdue = is_overdue(new, new.updated_at)
        entries += now_overdue and not was_overdue
        was_overdue = now_overdue
        if first_rectified is not None:
            assert new.first_rectified_at == first_rectified  # R3.5: never moves
        first_rectified = new.first_rectified_at
        issue = new
        assert issue.state in set(IssueState)
        assert issue.rework_count == fails >= 0
        assert issue.version == 1 + accepted
        assert overdue_events <= entries
    if issue.state is IssueState.VOID:
        with pytest.raises(InvalidTransition):
            void(issue, issue.updated_at, "again")


def step(kind: str, hours: int, **extra: object) -> HistoricalStep:
    return HistoricalStep(kind=kind, at=T0 + timedelta(hours=hours), **extra)  # type: ignore[arg-type]


def test_a_replayed_history_ends_where_the_live_decisions_would() -> None:
    # R2.1 backfill, R2.3: rectified, failed, rectified again, verified
    history = [
        step("rectified", 5, evidence=("https://e/1",)),
        step("fail", 10),
        step("rectified", 20, evidence=("https://e/2",)),
        step("pass", 30),
    ]
    issue, events = replay(reported(deadline_days=3), history, T0 + timedelta(days=10))
    assert (issue.state, issue.rework_count) == (IssueState.VERIFIED, 1)
    assert [e.kind for e in events] == ["rectified", "reopened", "rectified", "verified"]


def test_a_replayed_history_that_breaks_the_state_machine_is_refused() -> None:
    # R2.3: a pass straight from open is refused for imports as for live commands
    with pytest.raises(InvalidTransition):
        replay(reported(), [step("pass", 5)], T0 + timedelta(days=1))


def test_a_replayed_history_cannot_go_back_in_time_or_into_the_future() -> None:
    with pytest.raises(DomainError):
        replay(reported(), [step("void", -5, reason="重复")], T0 + timedelta(days=1))
    with pytest.raises(DomainError):
        replay(reported(), [step("void", 48, reason="重复")], T0 + timedelta(days=1))


def test_a_replayed_open_issue_past_its_deadline_is_overdue_once_just_after_it() -> None:
    # R2.4: the overdue event carries the historical instant, not the import's
    issue, events = replay(reported(deadline_days=1), [], T0 + timedelta(days=5))
    assert [e.kind for e in events] == ["overdue"]
    assert events[0].occurred_at == issue.deadline + timedelta(microseconds=1)
    assert issue.overdue_emitted
