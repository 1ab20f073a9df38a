from datetime import UTC, datetime, timedelta
from fractions import Fraction

from services.ranking.domain.canonical import canonical_json
from services.ranking.domain.edition import EditionContent, compute_edition
from services.ranking.domain.issues import IssueFact, IssueKind
from services.ranking.domain.numbers import display, exact
from services.ranking.domain.payload import (
    content_digest,
    edition_payload,
    payload_digest,
    same_content,
)
from services.ranking.domain.rules import RankingRules
from services.ranking.domain.scores import AssessmentScore
from services.ranking.domain.units import Category, UnitEventKind, UnitFact
from tests.unit.ranking.factories import (
    CUTOFF,
    SHANGHAI,
    at,
    issue_event,
    issues_for,
    registered,
    score,
    unit_event,
)

RULES = RankingRules(version="v1")


def _edition(
    units: list[UnitFact],
    issues: list[IssueFact],
    scores: list[AssessmentScore] | None = None,
    rules: RankingRules = RULES,
    cutoff: datetime = CUTOFF,
) -> EditionContent:
    return compute_edition(
        cutoff=cutoff,
        rules=rules,
        tz=SHANGHAI,
        unit_facts=units,
        issue_facts=issues,
        scores=scores or [],
    )


def test_seed_campaign_rate_is_3107_of_3440() -> None:
    # R3.4: the report's campaign-wide figure, 3107 of 3440 = 90.3%, inactive units included.
    units = [registered(f"d{n}") for n in range(8)]
    units.append(unit_event("d7", UnitEventKind.DEACTIVATED, at(1), 2))
    issues = [
        fact
        for n, (count, fixed) in enumerate([(430, 389)] * 7 + [(430, 384)])
        for fact in issues_for(f"d{n}", count, fixed)
    ]
    edition = _edition(units, issues)
    assert (edition.totals.reported, edition.totals.rectified) == (3440, 3107)
    campaign = edition_payload(edition, 1, 1, {}, CUTOFF)["campaign"]
    assert campaign["rate"] == {"exact": "3107/3440", "display": "90.32"}  # type: ignore[index]
    # R4.8: the deactivated unit is not ranked, though its issues count campaign-wide.
    ranked = {row.unit_id for row in edition.category(Category.DEPARTMENT).rows}
    assert ranked == {f"d{n}" for n in range(7)}


def test_lists_follow_the_composite_within_each_category() -> None:
    # R4.3-R4.5: departments ranked by s; red top 5, black bottom 3 (no ties here).
    units = [registered(f"d{n}") for n in range(1, 10)]
    issues = [f for n in range(1, 10) for f in issues_for(f"d{n}", 10, 10 - n)]
    edition = _edition(units, issues).category(Category.DEPARTMENT)
    assert [row.unit_id for row in edition.rows] == [f"d{n}" for n in range(1, 10)]
    assert edition.red == ("d1", "d2", "d3", "d4", "d5")
    assert edition.black == ("d7", "d8", "d9")
    assert edition.rows[0].composite == 90
    assert edition.rows[0].rate == Fraction(9, 10)


def test_unit_with_neither_rate_nor_score_is_not_ranked() -> None:
    # R4.3: no issues and no score → not ranked; a score alone ranks a unit.
    units = [registered("d1"), registered("d2"), registered("d3")]
    edition = _edition(units, issues_for("d1", 2, 1), [score("d2", 75)])
    rows = {row.unit_id: row for row in edition.category(Category.DEPARTMENT).rows}
    assert set(rows) == {"d1", "d2"}
    assert rows["d2"].rate is None
    assert rows["d2"].score == rows["d2"].composite == Fraction(75)


def test_min_issues_drops_the_rate_but_still_reports_it() -> None:
    # R4.8: below min_issues there is no rate component; the row still shows the R3.3 rate.
    rules = RankingRules(version="v1-min3", min_issues=3)
    units = [registered("d1")]
    edition = _edition(units, issues_for("d1", 2, 2), [score("d1", 60)], rules=rules)
    row = edition.category(Category.DEPARTMENT).rows[0]
    assert (row.rate, row.composite) == (Fraction(1), Fraction(60))


def test_lone_district_and_town_are_on_neither_list() -> None:
    # R4.6: tiny categories; the lists are not refilled.
    units = [
        registered("dist-a", Category.DISTRICT),
        registered("t1", Category.TOWN, parent_id="dist-a"),
    ]
    edition = _edition(units, issues_for("dist-a", 3, 2) + issues_for("t1", 3, 3))
    for category in (Category.DISTRICT, Category.TOWN):
        part = edition.category(category)
        assert len(part.rows) == 1
        assert (part.red, part.black) == ((), ())
    assert edition.category(Category.TOWN).rows[0].parent_id == "dist-a"


def test_unit_deactivated_after_the_cutoff_is_still_ranked_at_the_cutoff() -> None:
    # R1.3: active as of T.
    units = [
        registered("d1"),
        unit_event("d1", UnitEventKind.DEACTIVATED, CUTOFF + timedelta(hours=1), 2),
    ]
    edition = _edition(units, issues_for("d1", 1, 1))
    assert [row.unit_id for row in edition.category(Category.DEPARTMENT).rows] == ["d1"]


def test_transferred_issue_counts_for_the_new_unit_after_the_transfer() -> None:
    # R2.6.
    units = [registered("d1"), registered("d2")]
    issues = [
        *issues_for("d1", 2, 0),
        issue_event("d1-0", IssueKind.TRANSFERRED, at(2), 2, unit_id="d2"),
    ]
    rows = {r.unit_id: r for r in _edition(units, issues).category(Category.DEPARTMENT).rows}
    assert (rows["d1"].reported, rows["d2"].reported) == (1, 1)


def test_payload_carries_exact_and_display_strings_and_canonical_bytes() -> None:
    # R7: exact reduced fractions beside half-up display strings; canonical JSON.
    units = [registered("d1", name="市城管局")]
    edition = _edition(units, issues_for("d1", 3, 2), [score("d1", "90.31")])
    payload = edition_payload(
        edition, 7, 1, {"ISSUES": 42, "UNITS": 5}, CUTOFF + timedelta(hours=2)
    )
    row = payload["categories"]["department"]["rows"][0]  # type: ignore[index]
    assert row["rate"] == {"exact": "2/3", "display": "66.67"}
    assert row["score"] == {"exact": "9031/100", "display": "90.31", "month": "2018-05"}
    composite = 100 * (Fraction(2, 3) + Fraction(9031, 10000)) / 2
    assert row["composite"] == {"exact": exact(composite), "display": display(composite)}
    assert payload["cutoff"] == "2018-06-03T16:00:00Z"
    assert payload["year"] == 2018
    assert payload["rule_version"] == "v1"
    assert "市城管局".encode() in canonical_json(payload)


def test_envelope_does_not_count_as_content() -> None:
    # R4.1: revision, input positions and publication time are not content.
    units = [registered("d1")]
    edition = _edition(units, issues_for("d1", 3, 2))
    first = edition_payload(edition, 1, 1, {"ISSUES": 10}, CUTOFF)
    again = edition_payload(edition, 1, 2, {"ISSUES": 99}, CUTOFF + timedelta(days=1))
    assert canonical_json(first) != canonical_json(again)
    assert payload_digest(first) == payload_digest(again) == content_digest(edition)


def test_same_cutoff_in_another_zone_is_the_same_content() -> None:
    # R4.1/R7: the instant, not its spelling, is the cutoff.
    units = [registered("d1")]
    issues = issues_for("d1", 3, 2)
    here = _edition(units, issues)
    utc = _edition(units, issues, cutoff=CUTOFF.astimezone(UTC))
    assert same_content(here, utc)


def test_a_new_fact_before_the_cutoff_changes_the_content() -> None:
    # R4.1: a late event before T yields a different content (a new revision).
    units = [registered("d1")]
    issues = issues_for("d1", 3, 2)
    late_fix = issue_event("d1-2", IssueKind.RECTIFIED, CUTOFF, 2)
    assert not same_content(_edition(units, issues), _edition(units, [*issues, late_fix]))
    after = issue_event("d1-2", IssueKind.RECTIFIED, CUTOFF + timedelta(microseconds=1), 2)
    assert same_content(_edition(units, issues), _edition(units, [*issues, after]))
