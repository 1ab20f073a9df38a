"""R5.3: a talk is ordered, scheduled, then held with its minutes."""

from __future__ import annotations

from datetime import date

import pytest

from services.notify.domain.talks import (
    CANCELLABLE,
    Talk,
    TalkStatus,
    TalkTransitionError,
    hold,
    schedule,
)

ORDERED = Talk(status=TalkStatus.ORDERED)


def test_an_ordered_talk_is_scheduled_then_held_with_minutes() -> None:
    scheduled = schedule(ORDERED, date(2018, 6, 8))
    moved = schedule(scheduled, date(2018, 6, 11))
    held = hold(moved, date(2018, 6, 11), "  区长参加约谈，承诺两周内整改到位。 ")
    assert (held.status, held.scheduled_for, held.held_on) == (
        TalkStatus.HELD,
        date(2018, 6, 11),
        date(2018, 6, 11),
    )
    assert held.minutes == "区长参加约谈，承诺两周内整改到位。"


@pytest.mark.parametrize(
    ("talk", "action"),
    [
        (ORDERED, lambda t: hold(t, date(2018, 6, 8), "纪要")),
        (Talk(status=TalkStatus.CANCELLED), lambda t: schedule(t, date(2018, 6, 8))),
        (Talk(status=TalkStatus.HELD), lambda t: schedule(t, date(2018, 6, 8))),
        (schedule(ORDERED, date(2018, 6, 8)), lambda t: hold(t, date(2018, 6, 7), "纪要")),
        (schedule(ORDERED, date(2018, 6, 8)), lambda t: hold(t, date(2018, 6, 8), "  ")),
    ],
)
def test_out_of_order_changes_are_refused(talk: Talk, action: object) -> None:
    with pytest.raises(TalkTransitionError):
        action(talk)  # type: ignore[operator]


def test_a_correction_cancels_only_talks_not_yet_held() -> None:
    assert {TalkStatus.ORDERED, TalkStatus.SCHEDULED} == CANCELLABLE
