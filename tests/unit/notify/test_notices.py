"""R5.2/R5.3: the notices planned for each edition of the red and black lists."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from services.notify.domain.escalation import EditionKey, EscalationState, TalkLevel
from services.notify.domain.notices import (
    EditionSummary,
    NoticeType,
    PlannedNotice,
    RankedUnit,
    Recipient,
    notices_for_edition,
)

CUTOFF = datetime(2018, 6, 3, 16, 0, tzinfo=UTC)


def _ranked(unit_id: str, rank: int, score: Fraction, rate: Fraction | None) -> RankedUnit:
    return RankedUnit(
        unit_id=unit_id,
        category="department",
        rank=rank,
        score=score,
        rate=rate,
        reported=3440,
        rectified=3107,
        overdue=2,
        rework=1,
    )


UNITS = (
    _ranked("dept-a", 1, Fraction(9031, 100), Fraction(3107, 3440)),
    _ranked("dept-b", 2, Fraction(80), None),
    _ranked("dept-c", 3, Fraction(2, 3), Fraction(0)),
)


def _edition(number: int, red: set[str], black: set[str], revision: int = 1) -> EditionSummary:
    return EditionSummary(
        year=2018,
        number=number,
        revision=revision,
        cutoff=CUTOFF,
        rule_version="v1",
        ranked=UNITS,
        red=frozenset(red),
        black=frozenset(black),
    )


def _by_type(notices: list[PlannedNotice]) -> dict[NoticeType, list[str | None]]:
    out: dict[NoticeType, list[str | None]] = {}
    for notice in notices:
        out.setdefault(notice.type, []).append(notice.recipient.unit_id)
    return out


def test_each_edition_reports_to_every_ranked_unit_and_lists_red_and_black() -> None:
    # R5.2, R5.3 (k = 1: 市领导约谈)
    notices, state = notices_for_edition(_edition(1, {"dept-a"}, {"dept-c"}), EscalationState())
    assert _by_type(notices) == {
        NoticeType.RATE_REPORT: ["dept-a", "dept-b", "dept-c"],
        NoticeType.COMMENDATION: ["dept-a"],
        NoticeType.CRITICISM: ["dept-c"],
        NoticeType.TALK: ["dept-c"],
    }
    talk = next(n for n in notices if n.type is NoticeType.TALK)
    assert talk.talk_level is TalkLevel.CITY_LEADER
    assert talk.edition == EditionKey(year=2018, number=1)
    assert state.streaks() == {"dept-c": 1}


def test_key_numbers_are_exact_beside_their_display() -> None:
    # R7: "9031/100" beside "90.31"; a rate shown as a percentage; undefined rate left out
    notices, _ = notices_for_edition(_edition(1, set(), set()), EscalationState())
    reports = {n.recipient.unit_id: dict(n.key_numbers) for n in notices}
    assert reports["dept-a"]["score"] == "9031/100"
    assert reports["dept-a"]["score_display"] == "90.31"
    assert reports["dept-a"]["rate"] == "3107/3440"
    assert reports["dept-a"]["rate_display"] == "90.32"
    assert reports["dept-b"]["score"] == "80/1"
    assert "rate" not in reports["dept-b"]
    assert reports["dept-c"]["score_display"] == "0.67"


def test_the_third_listing_in_a_row_refers_for_accountability() -> None:
    # R5.3: k ≥ 3 → 问责
    state = EscalationState()
    for number in (1, 2, 3):
        notices, state = notices_for_edition(_edition(number, set(), {"dept-c"}), state)
    talk = next(n for n in notices if n.type is NoticeType.TALK)
    assert talk.talk_level is TalkLevel.ACCOUNTABILITY
    assert ("consecutive_black", "3") in talk.key_numbers


def test_a_revision_taking_a_unit_off_the_black_list_sends_a_correction() -> None:
    # R5.3: a correction withdraws the criticism and cancels the talk it ordered
    _, state = notices_for_edition(_edition(1, {"dept-a"}, {"dept-c"}), EscalationState())
    notices, state = notices_for_edition(_edition(1, {"dept-b"}, {"dept-a"}, revision=2), state)
    kinds = _by_type(notices)
    assert kinds[NoticeType.COMMENDATION] == ["dept-b"]
    assert kinds[NoticeType.CRITICISM] == ["dept-a"]
    corrections = {
        n.recipient.unit_id: (n.withdraws, n.withdrawn_revision, n.talk_level)
        for n in notices
        if n.type is NoticeType.CORRECTION
    }
    assert corrections == {
        "dept-a": (NoticeType.COMMENDATION, 1, None),
        "dept-c": (NoticeType.CRITICISM, 1, TalkLevel.CITY_LEADER),
    }
    assert all(n.revision == 2 for n in notices)
    assert state.streaks() == {"dept-a": 1}


def test_a_redelivered_edition_plans_nothing() -> None:
    # R4.1/R5.2: the same revision again sends nothing twice
    first, state = notices_for_edition(_edition(1, {"dept-a"}, {"dept-c"}), EscalationState())
    again, same = notices_for_edition(_edition(1, {"dept-a"}, {"dept-c"}), state)
    assert (again, same) == ([], state)
    assert len({n.key for n in first}) == len(first)


def test_only_ranked_units_can_be_listed() -> None:
    # R4.4-R4.6
    with pytest.raises(ValueError, match="not ranked"):
        _edition(1, {"dept-z"}, set())


def test_a_recipient_is_a_unit_or_an_office() -> None:
    with pytest.raises(ValueError, match="either"):
        Recipient()


def test_the_escalation_ladder_climbs_one_two_three_and_resets_after_a_clean_edition() -> None:
    # R5.3: k = 1 市领导约谈, k = 2 组织部门约谈, k = 3 问责; a clean edition resets k to 0
    state = EscalationState()
    ladder: list[tuple[TalkLevel | None, str | None]] = []
    for number, black in enumerate([{"dept-c"}, {"dept-c"}, {"dept-c"}, set(), {"dept-c"}], 1):
        notices, state = notices_for_edition(_edition(number, set(), black), state)
        talk = next((n for n in notices if n.type is NoticeType.TALK), None)
        ladder.append(
            (None, None)
            if talk is None
            else (talk.talk_level, dict(talk.key_numbers)["consecutive_black"])
        )
    assert ladder == [
        (TalkLevel.CITY_LEADER, "1"),
        (TalkLevel.ORGANISATION_DEPARTMENT, "2"),
        (TalkLevel.ACCOUNTABILITY, "3"),
        (None, None),
        (TalkLevel.CITY_LEADER, "1"),
    ]
