"""Issue summaries (`IssueSummary`): what lets an edition count most issues without folding
their facts must give exactly what folding them gives (R2-R3)."""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ranking.domain.issues import IssueFact, IssueKind, issue_as_of, issue_summary
from services.ranking.domain.rates import merge_rates, total_of, unit_rates
from tests.unit.ranking.factories import at, issue_event, reported
from tests.unit.ranking.test_edition_properties import Facts, campaigns

CUTOFF_DAYS = [-1, 0, 3, 10, 20, 34, 40, 60]


def _by_issue(facts: list[IssueFact]) -> dict[str, list[IssueFact]]:
    grouped: dict[str, list[IssueFact]] = {}
    for fact in facts:
        grouped.setdefault(fact.issue_id, []).append(fact)
    return grouped


@settings(max_examples=60, deadline=None)
@given(campaigns())
def test_a_summary_gives_the_folded_snapshot_at_any_cutoff_after_its_last_change(
    facts: Facts,
) -> None:
    for issue_id, issue_facts in _by_issue(facts.issues).items():
        summary = issue_summary(issue_facts)
        assert summary is not None, issue_id
        for day in CUTOFF_DAYS:
            cutoff = at(day)
            decided = summary.at(cutoff)
            folded = issue_as_of(issue_facts, cutoff)
            if decided is not None:
                assert decided == folded
            settled = summary.changed_until is None or summary.changed_until <= cutoff
            if settled and summary.final.reported_at <= cutoff:
                assert decided is not None  # the summary decides: nothing to fold again


def test_overdue_is_taken_at_the_cutoff_not_at_the_last_change() -> None:
    # R2.4: still open after its deadline -> overdue at a later cutoff only.
    facts = [reported("i1", "d1", when=at(0), deadline=at(3))]
    summary = issue_summary(facts)
    assert summary is not None and summary.changed_until is None
    early, late = summary.at(at(2)), summary.at(at(4))
    assert early is not None and not early.overdue
    assert late is not None and late.overdue


def test_a_change_after_the_cutoff_leaves_the_cutoff_to_the_fold() -> None:
    facts = [
        reported("i1", "d1", when=at(0)),
        issue_event("i1", IssueKind.RECTIFIED, at(5), 2),
    ]
    summary = issue_summary(facts)
    assert summary is not None
    assert summary.at(at(4)) is None  # rectified only later: fold the facts at day 4
    decided = summary.at(at(5))
    assert decided is not None and decided.is_rectified


def test_an_issue_is_summarised_only_once_reported() -> None:
    assert issue_summary([issue_event("i1", IssueKind.RECTIFIED, at(1), 2)]) is None
    summary = issue_summary([reported("i1", "d1", when=at(3), occurred_at=at(9))])
    assert summary is not None
    assert summary.at(at(2)) is None  # R3.1: counts from its reported_at
    assert summary.at(at(3)) is not None


@settings(max_examples=60, deadline=None)
@given(campaigns(), st.data())
def test_counts_summed_apart_and_merged_equal_the_counts_of_all_issues(
    facts: Facts, data: st.DataObject
) -> None:
    # R3.1-R3.5 are sums: the database's part plus the folded part is the whole.
    cutoff = at(data.draw(st.sampled_from(CUTOFF_DAYS)))
    snapshots = [
        s
        for issue_facts in _by_issue(facts.issues).values()
        if (s := issue_as_of(issue_facts, cutoff)) is not None
    ]
    in_db = data.draw(st.lists(st.booleans(), min_size=len(snapshots), max_size=len(snapshots)))
    summed = unit_rates(s for s, db in zip(snapshots, in_db, strict=True) if db)
    folded = [s for s, db in zip(snapshots, in_db, strict=True) if not db]
    merged = merge_rates(summed, folded)
    assert merged == unit_rates(snapshots)
    assert total_of(merged.values()) == total_of(unit_rates(snapshots).values())


def test_a_void_issue_counts_nowhere_after_merging() -> None:
    facts = [
        reported("i1", "d1", when=at(0)),
        issue_event("i1", IssueKind.VOIDED, at(1), 2),
    ]
    snapshot = issue_as_of(facts, at(2) + timedelta(hours=1))
    assert snapshot is not None
    assert merge_rates({}, [snapshot]) == {}
