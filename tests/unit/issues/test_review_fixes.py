"""Fixes from the review of the issues service: imported overdue spells (R2.1, R5.1), the
scheduler's independent chores (R2.4, R2.5), bounds on entered instants, the list cursor and
the start-up message for a bad rules file."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.issues import __main__ as entry
from services.issues.domain.backfill import HistoricalStep, replay
from services.issues.domain.errors import DomainError
from services.issues.domain.issue_events import IssueBecameOverdue
from services.issues.domain.lifecycle import overdue_transition, report, request_extension
from services.issues.events import overdue_event
from services.issues.overdue import OverdueScheduler
from services.issues.queries import decode_cursor, encode_cursor
from tests.unit.issues.factories import DETAILS, ISSUE_ID, T0, reported, unit


def test_overdue_spells_replayed_by_a_backfill_are_marked_imported() -> None:
    # R2.1, R5.1: notify must not send overdue notices for history
    fixed = HistoricalStep(kind="rectified", at=T0 + timedelta(days=5), evidence=("https://e/1",))
    _, events = replay(reported(deadline_days=3), [fixed], T0 + timedelta(days=30))
    overdue = [e for e in events if isinstance(e, IssueBecameOverdue)]
    assert len(overdue) == 1 and overdue[0].imported
    wire = overdue_event(overdue[0], "JM-2018-000123", uuid.uuid4)
    assert wire.imported is True
    # Still overdue at import time: also history, also imported.
    _, events = replay(reported(deadline_days=3), [], T0 + timedelta(days=30))
    assert [e.imported for e in events if isinstance(e, IssueBecameOverdue)] == [True]


def test_a_live_overdue_event_is_not_imported() -> None:
    # R2.4, R5.1
    issue = reported()
    found = overdue_transition(issue, issue.deadline + timedelta(hours=1))
    assert found is not None
    assert overdue_event(found[1], issue.number, uuid.uuid4).imported is False


class _Runtime:
    pass


async def test_the_daily_draw_runs_even_when_the_overdue_sweep_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # R2.5 must not depend on R2.4's sweep succeeding, nor one chore on another
    ran: list[str] = []

    async def failing_chore() -> None:
        ran.append("first")
        raise RuntimeError("boom")

    async def draw() -> None:
        ran.append("draw")

    scheduler = OverdueScheduler(
        runtime=_Runtime(),  # type: ignore[arg-type]
        poll_seconds=1,
        batch=10,
        also=[failing_chore, draw],
    )

    async def failing_sweep() -> int:
        raise ConnectionError("database away")

    monkeypatch.setattr(scheduler, "sweep", failing_sweep)
    assert await scheduler.run_once() == 0
    assert ran == ["first", "draw"]


def _report(**changes: Any) -> None:
    args: dict[str, Any] = {
        "issue_id": ISSUE_ID,
        "number": "JM-2018-000123",
        "unit": unit(),
        "category": "占道经营",
        "found_at": T0,
        "reported_at": T0 + timedelta(hours=1),
        "details": DETAILS,
        "deadline": None,
        "limits": {},
        **changes,
    }
    report(**args)


@pytest.mark.parametrize(
    "changes",
    [
        {"found_at": datetime(9999, 12, 31, 23, tzinfo=UTC)},  # used to overflow: a 500
        {"found_at": datetime(1900, 1, 1, tzinfo=UTC)},
        {"deadline": datetime(3018, 6, 4, tzinfo=UTC)},
        {"reported_at": datetime(2201, 1, 1, tzinfo=UTC)},
    ],
)
def test_instants_outside_the_plausible_years_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(DomainError, match="2000-2200"):
        _report(**changes)


def test_an_extension_deadline_outside_the_plausible_years_is_refused() -> None:
    # R2.6
    with pytest.raises(DomainError, match="2000-2200"):
        request_extension(
            reported(), T0 + timedelta(hours=2), datetime(9999, 1, 1, tzinfo=UTC), "x"
        )


def test_a_cursor_with_a_naive_instant_is_refused() -> None:
    issue_id = uuid.uuid4()
    aware = encode_cursor(T0, issue_id)
    assert decode_cursor(aware) == (T0, issue_id)
    naive = base64.urlsafe_b64encode(f"2018-06-04T09:00:00|{issue_id}".encode()).decode()
    with pytest.raises(ValueError, match="not a cursor"):
        decode_cursor(naive)


def test_a_bad_rules_file_stops_the_service_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('version = "x"\n[reinspection]\nseed = "s"\nshare = "4/3"\n')
    monkeypatch.setenv("ISSUES_RULES_FILE", str(rules))
    served: list[object] = []
    monkeypatch.setattr(entry, "serve", lambda *args: served.append(args))
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 2 and not served
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(rules) in err and "reinspection.share" in err
