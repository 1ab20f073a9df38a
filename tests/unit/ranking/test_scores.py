from datetime import timedelta
from fractions import Fraction

import pytest

from services.ranking.domain.scores import scores_as_of
from tests.unit.ranking.factories import CUTOFF, EARLY, score

JUNE = (2018, 6)


def test_latest_month_at_or_before_the_cutoff_month_is_used() -> None:
    # R4.2: among scores recorded by T with month <= month of T, the latest month.
    chosen = scores_as_of(
        [score("d1", 80, (2018, 4)), score("d1", 70, (2018, 5)), score("d1", 60, (2018, 3))],
        CUTOFF,
        JUNE,
    )
    assert chosen["d1"].score == 70


def test_score_for_a_month_after_the_cutoff_month_is_ignored() -> None:
    # R4.2: month must be at or before the month of T.
    chosen = scores_as_of([score("d1", 80, (2018, 5)), score("d1", 90, (2018, 7))], CUTOFF, JUNE)
    assert chosen["d1"].score == 80


def test_score_recorded_after_the_cutoff_never_changes_the_edition() -> None:
    # R4.2: a score recorded after T can only appear in a later edition.
    late = score("d1", 10, (2018, 5), when=CUTOFF + timedelta(seconds=1))
    chosen = scores_as_of([score("d1", 80, (2018, 5)), late], CUTOFF, JUNE)
    assert chosen["d1"].score == 80
    on_time = score("d1", 10, (2018, 5), when=CUTOFF)  # at exactly T counts
    assert scores_as_of([score("d1", 80, (2018, 5)), on_time], CUTOFF, JUNE)["d1"].score == 10


def test_later_recorded_score_for_the_same_month_replaces_the_earlier() -> None:
    # R4.2: later occurred_at wins; equal instants fall back to event_id for determinism.
    first = score("d1", 80, when=EARLY, event_id="b")
    second = score("d1", 85, when=EARLY + timedelta(days=1), event_id="a")
    assert scores_as_of([second, first], CUTOFF, JUNE)["d1"].score == 85
    tie_a = score("d1", 70, when=EARLY, event_id="a")
    tie_b = score("d1", 75, when=EARLY, event_id="b")
    assert scores_as_of([tie_b, tie_a], CUTOFF, JUNE)["d1"].score == 75
    assert scores_as_of([tie_a, tie_b], CUTOFF, JUNE)["d1"].score == 75


def test_scores_are_exact_and_within_0_to_100() -> None:
    assert score("d1", "90.31").score == Fraction(9031, 100)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        score("d1", 101)
    with pytest.raises(TypeError):
        score("d1", 90.5)  # type: ignore[arg-type]
