"""R5.3: escalation by consecutive black listings, as a fold over editions."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.escalation import (
    EditionKey,
    EscalationState,
    Listing,
    TalkLevel,
    escalate,
    fold_listings,
    talk_level,
    waits_for,
)


def _listing(year: int, number: int, black: set[str], revision: int = 1) -> Listing:
    return Listing(
        edition=EditionKey(year=year, number=number),
        revision=revision,
        red=frozenset(),
        black=frozenset(black),
    )


def test_talk_levels_rise_with_consecutive_listings() -> None:
    # R5.3: k=1 市领导约谈, k=2 组织部门约谈, k≥3 问责
    assert talk_level(0) is None
    assert talk_level(1) is TalkLevel.CITY_LEADER
    assert talk_level(2) is TalkLevel.ORGANISATION_DEPARTMENT
    assert talk_level(3) is TalkLevel.ACCOUNTABILITY
    assert talk_level(17) is TalkLevel.ACCOUNTABILITY


def test_consecutive_listings_escalate_across_the_year_boundary() -> None:
    # R5.3: "across year boundaries"
    state = EscalationState()
    levels = []
    for listing in (_listing(2018, 52, {"u"}), _listing(2018, 53, {"u"}), _listing(2019, 1, {"u"})):
        state, step = escalate(state, listing)
        assert step is not None
        levels.append(step.talks)
    assert levels == [
        (("u", 1, TalkLevel.CITY_LEADER),),
        (("u", 2, TalkLevel.ORGANISATION_DEPARTMENT),),
        (("u", 3, TalkLevel.ACCOUNTABILITY),),
    ]


def test_an_edition_without_the_unit_on_the_black_list_resets_k() -> None:
    # R5.3: "ranked or not, resets k to 0"
    state = fold_listings(
        [_listing(2018, 1, {"u"}), _listing(2018, 2, {"v"}), _listing(2018, 3, {"u"})]
    )
    assert state.streaks() == {"u": 1}
    assert state.streaks(EditionKey(year=2018, number=2)) == {"v": 1}


def test_only_the_latest_revision_of_an_edition_counts() -> None:
    # R5.3
    state = fold_listings(
        [
            _listing(2018, 1, {"u"}),
            _listing(2018, 2, {"u"}),
            _listing(2018, 2, set(), revision=2),
            _listing(2018, 3, {"u"}),
        ]
    )
    assert state.streaks() == {"u": 1}


def test_a_revision_taking_a_unit_off_withdraws_its_criticism_and_talk() -> None:
    # R5.3: correction notice withdraws the earlier one
    state = fold_listings([_listing(2018, 1, {"u"}), _listing(2018, 2, {"u", "v"})])
    state, step = escalate(state, _listing(2018, 2, {"v", "w"}, revision=2))
    assert step is not None
    assert [(w.unit_id, w.withdrawn_revision, w.cancelled_talk) for w in step.withdrawals] == [
        ("u", 1, TalkLevel.ORGANISATION_DEPARTMENT)
    ]
    # v was already dealt with by revision 1; only w is new
    assert step.talks == (("w", 1, TalkLevel.CITY_LEADER),)
    assert state.streaks() == {"v": 1, "w": 1}


def test_a_stale_or_repeated_revision_changes_nothing() -> None:
    # R5.3: the fold is idempotent
    state = fold_listings([_listing(2018, 1, {"u"}, revision=2)])
    for stale in (_listing(2018, 1, {"u"}, revision=2), _listing(2018, 1, set(), revision=1)):
        again, step = escalate(state, stale)
        assert (again, step) == (state, None)


def test_a_unit_cannot_be_on_both_lists() -> None:
    # R4.6
    with pytest.raises(ValueError, match="both lists"):
        Listing(
            edition=EditionKey(year=2018, number=1),
            revision=1,
            red=frozenset({"u"}),
            black=frozenset({"u"}),
        )


_units = st.frozensets(st.sampled_from(["a", "b", "c"]))
_listings = st.lists(
    st.builds(
        Listing,
        edition=st.builds(EditionKey, year=st.integers(2018, 2019), number=st.integers(1, 4)),
        revision=st.integers(1, 3),
        red=st.just(frozenset()),
        black=_units,
    ),
    max_size=12,
)


@given(_listings, st.randoms(use_true_random=False))
def test_any_delivery_order_or_repetition_gives_the_same_streaks(
    listings: list[Listing], rnd: random.Random
) -> None:
    # R5.3 "so recomputation is deterministic"
    # Two deliveries of the same (edition, revision) must carry the same lists.
    canonical = {(x.edition, x.revision): x for x in listings}
    listings = [canonical[(x.edition, x.revision)] for x in listings]
    shuffled = listings * 2
    rnd.shuffle(shuffled)
    state = EscalationState()
    for listing in shuffled:
        state, _ = escalate(state, listing)
    assert state == fold_listings(listings)
    # k by hand: latest revision per edition, in edition order
    latest: dict[EditionKey, Listing] = {}
    for x in listings:
        if x.edition not in latest or x.revision > latest[x.edition].revision:
            latest[x.edition] = x
    k: dict[str, int] = {}
    for key in sorted(latest):
        k = {u: (k.get(u, 0) + 1) for u in latest[key].black}
    assert state.streaks() == k


def test_an_edition_waits_until_the_one_before_it_has_been_seen() -> None:
    """R5.3: k counts editions in a row, so edition n is applied after n-1 (same year)."""
    second = EditionKey(year=2018, number=2)
    assert waits_for(EscalationState(), second) == EditionKey(year=2018, number=1)
    assert waits_for(EscalationState(), EditionKey(year=2019, number=1)) is None
    first = Listing(
        edition=EditionKey(year=2018, number=1), revision=1, red=frozenset(), black=frozenset()
    )
    state, _ = escalate(EscalationState(), first)
    assert waits_for(state, second) is None
    assert waits_for(state, first.edition) is None  # a later revision never waits
