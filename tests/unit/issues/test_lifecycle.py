"""R2.2, R2.3, R2.6: reporting an issue and moving it through its states."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.issues.domain.errors import (
    InvalidCommand,
    InvalidDeadline,
    InvalidTransition,
)
from services.issues.domain.issue_events import DeadlineExtended, ExtensionRefused
from services.issues.domain.lifecycle import (
    Issue,
    IssueState,
    decide_extension,
    inspect,
    rectify,
    report,
    request_extension,
    transfer,
    void,
)
from services.issues.domain.units import Unit
from tests.unit.issues.factories import DETAILS, ISSUE_ID, T0, reported, unit


def test_reporting_sets_the_category_deadline_and_starts_at_version_one() -> None:
    # R2.1, R2.2
    issue, event = report(
        issue_id=ISSUE_ID,
        number="JM-2018-000123",
        unit=unit(),
        category="暴露垃圾",
        found_at=T0,
        reported_at=T0 + timedelta(minutes=5),
        details=DETAILS,
        deadline=None,
        limits={"暴露垃圾": timedelta(days=1)},
    )
    assert issue.state is IssueState.OPEN
    assert (issue.version, issue.rework_count, issue.imported) == (1, 0, False)
    assert issue.deadline == T0 + timedelta(days=1)
    assert event.kind == "reported"
    assert (event.version, event.occurred_at, event.deadline) == (
        1,
        T0 + timedelta(minutes=5),
        issue.deadline,
    )


def test_reporting_refuses_an_inactive_unit_and_a_finding_after_the_report() -> None:
    # R1.3, R2.1
    def attempt(to: Unit, reported_at: datetime) -> None:
        report(
            issue_id=ISSUE_ID,
            number="JM-2018-000123",
            unit=to,
            category="占道经营",
            found_at=T0,
            reported_at=reported_at,
            details=DETAILS,
            deadline=None,
            limits={},
        )

    with pytest.raises(InvalidCommand, match="inactive"):
        attempt(replace(unit(), active=False), T0)
    with pytest.raises(InvalidCommand, match="found after"):
        attempt(unit(), T0 - timedelta(seconds=1))


def test_rectify_then_pass_verifies_the_issue() -> None:
    # R2.3
    issue, rectified = rectify(reported(), T0 + timedelta(days=1), ["https://example.org/fix.jpg"])
    assert issue.state is IssueState.RECTIFIED
    assert issue.first_rectified_at == T0 + timedelta(days=1)
    assert (rectified.kind, rectified.version) == ("rectified", 2)
    issue, verified = inspect(issue, T0 + timedelta(days=2), passed=True, note="ok")
    assert issue.state is IssueState.VERIFIED
    assert (verified.kind, verified.version) == ("verified", 3)


@pytest.mark.parametrize("verify_first", [False, True])
def test_failed_reinspection_reopens_and_counts_rework(verify_first: bool) -> None:
    # R2.3: from rectified or verified; rework + 1; the original deadline is kept
    issue, _ = rectify(reported(), T0 + timedelta(days=1), ["fix"])
    if verify_first:
        issue, _ = inspect(issue, T0 + timedelta(days=2), passed=True, note="ok")
    issue, event = inspect(issue, T0 + timedelta(days=5), passed=False, note="摊位又回来了")
    assert issue.state is IssueState.REOPENED
    assert issue.rework_count == 1
    assert issue.deadline == reported().deadline
    assert (event.kind, event.version) == ("reopened", issue.version)
    # R3.5: first rectification stays, a second one does not move it
    again, _ = rectify(issue, T0 + timedelta(days=6), ["fix again"])
    assert again.first_rectified_at == T0 + timedelta(days=1)


def test_a_pass_is_only_possible_from_rectified() -> None:
    # R2.3
    with pytest.raises(InvalidTransition) as excinfo:
        inspect(reported(), T0 + timedelta(days=1), passed=True, note="")
    assert (excinfo.value.current_state, excinfo.value.attempted) == ("open", "pass")


def test_void_is_final_and_needs_a_reason() -> None:
    # R2.3
    with pytest.raises(InvalidCommand):
        void(reported(), T0 + timedelta(hours=2), "  ")
    issue, event = void(reported(), T0 + timedelta(hours=2), "重复上报")
    assert issue.state is IssueState.VOID
    assert (event.reason, event.previous_state) == ("重复上报", "open")
    for attempt in (
        lambda i: void(i, T0 + timedelta(days=1), "again"),
        lambda i: rectify(i, T0 + timedelta(days=1), ["fix"]),
        lambda i: transfer(i, unit("dept-water"), T0 + timedelta(days=1), "x"),
    ):
        with pytest.raises(InvalidTransition):
            attempt(issue)


def test_rectification_needs_evidence() -> None:
    # R2.3: "with evidence"
    with pytest.raises(InvalidCommand, match="evidence"):
        rectify(reported(), T0 + timedelta(days=1), ["", "  "])


def test_events_cannot_be_dated_before_the_last_change() -> None:
    # R3 folds by occurred_at: an earlier event would rewrite history
    issue = reported()
    with pytest.raises(InvalidCommand, match="rewrite its history"):
        rectify(issue, issue.updated_at - timedelta(seconds=1), ["fix"])


def test_transfer_moves_the_issue_and_keeps_report_time_and_deadline() -> None:
    # R2.6 转办
    issue = reported()
    moved, event = transfer(issue, unit("dist-pengjiang"), T0 + timedelta(days=1), "属地管理")
    assert moved.unit_id == "dist-pengjiang"
    assert (moved.reported_at, moved.deadline) == (issue.reported_at, issue.deadline)
    assert (event.unit_id, event.from_unit_id, event.reason) == (
        "dist-pengjiang",
        "dept-urban",
        "属地管理",
    )
    with pytest.raises(InvalidCommand, match="already belongs"):
        transfer(moved, unit("dist-pengjiang"), T0 + timedelta(days=1), "x")


def test_approved_extension_replaces_the_deadline_and_refusal_keeps_it() -> None:
    # R2.6 延期
    issue = reported()
    later = issue.deadline + timedelta(days=4)
    asked, request = request_extension(issue, T0 + timedelta(days=1), later, "需要采购设备")
    assert (asked.requested_deadline, request.kind) == (later, "extension_requested")
    with pytest.raises(InvalidCommand, match="pending"):
        request_extension(asked, T0 + timedelta(days=1), later, "again")
    approved, extended = decide_extension(asked, T0 + timedelta(days=2), True, "同意")
    assert (approved.deadline, approved.requested_deadline) == (later, None)
    assert isinstance(extended, DeadlineExtended)
    assert extended.previous_deadline == issue.deadline
    refused, refusal = decide_extension(asked, T0 + timedelta(days=2), False, "不同意")
    assert (refused.deadline, refused.requested_deadline) == (issue.deadline, None)
    assert isinstance(refusal, ExtensionRefused)
    with pytest.raises(InvalidCommand, match="no extension request"):
        decide_extension(refused, T0 + timedelta(days=3), True, "")


def test_an_extension_must_ask_for_a_later_deadline() -> None:
    # R2.6
    issue = reported()
    with pytest.raises(InvalidDeadline):
        request_extension(issue, T0 + timedelta(days=1), issue.deadline, "same")


# R2.3: the whole transition table, checked against every sequence of commands.
_ALLOWED = {
    "rectify": {IssueState.OPEN, IssueState.REOPENED},
    "pass": {IssueState.RECTIFIED},
    "fail": {IssueState.RECTIFIED, IssueState.VERIFIED},
    "void": {IssueState.OPEN, IssueState.RECTIFIED, IssueState.VERIFIED, IssueState.REOPENED},
}


def _apply(issue: Issue, command: str, at_hours: int) -> Issue:
    at = issue.updated_at + timedelta(hours=at_hours)
    if command == "rectify":
        return rectify(issue, at, ["fix"])[0]
    if command in ("pass", "fail"):
        return inspect(issue, at, passed=command == "pass", note="")[0]
    return void(issue, at, "重复")[0]


@given(st.lists(st.tuples(st.sampled_from(sorted(_ALLOWED)), st.integers(0, 100)), max_size=12))
def test_any_invalid_transition_leaves_the_state_unchanged(
    commands: list[tuple[str, int]],
) -> None:
    # R2.3: allowed transitions follow the table; any other is rejected and changes nothing
    issue = reported()
    for command, hours in commands:
        before = deepcopy(issue)
        if issue.state not in _ALLOWED[command]:
            with pytest.raises(InvalidTransition):
                _apply(issue, command, hours)
            assert issue == before
            continue
        after = _apply(issue, command, hours)
        assert after.version == issue.version + 1
        assert after.rework_count == issue.rework_count + (command == "fail")
        assert after.deadline == issue.deadline
        issue = after
