"""R5.4: award notices to each unit that received money and a summary to the finance office."""

from __future__ import annotations

from services.notify.domain.award_notices import (
    AllocationSummary,
    Award,
    allocation_notices,
    yuan,
)
from services.notify.domain.notices import NoticeType, OfficeRole, Recipient


def _summary(*awards: Award, revision: int = 1) -> AllocationSummary:
    return AllocationSummary(
        year=2018,
        edition=5,
        revision=revision,
        pool=15_094_339,
        fund=800_000_000,
        allocated_total=75_471_695,
        remaining=724_528_305,
        awards=awards,
    )


def test_yuan_are_shown_from_integer_fen() -> None:
    # R6.1
    assert [yuan(f) for f in (0, 5, 123_456, -250)] == ["0.00", "0.05", "1234.56", "-2.50"]


def test_each_paid_unit_gets_its_amount_and_the_finance_office_the_summary() -> None:
    notices = allocation_notices(
        _summary(
            Award(unit_id="dist-a", fen=8_000_000, kind="allocation"),
            Award(unit_id="dept-b", fen=7_094_339, kind="allocation"),
        )
    )
    awards = {
        n.recipient.unit_id: dict(n.key_numbers) for n in notices if n.type is NoticeType.AWARD
    }
    assert awards["dist-a"]["yuan"] == "80000.00" and awards["dist-a"]["fen"] == "8000000"
    assert awards["dept-b"]["yuan"] == "70943.39"
    summary = notices[-1]
    assert summary.type is NoticeType.FINANCE_SUMMARY
    assert summary.recipient == Recipient(role=OfficeRole.FINANCE_OFFICE)
    assert dict(summary.key_numbers)["pool_yuan"] == "150943.39"
    assert dict(summary.key_numbers)["remaining_fen"] == "724528305"
    assert summary.items == (("dept-b", "70943.39"), ("dist-a", "80000.00"))


def test_a_revision_notifies_adjustments_and_skips_units_whose_money_did_not_change() -> None:
    notices = allocation_notices(
        _summary(
            Award(unit_id="dist-a", fen=-1_000, kind="adjustment"),
            Award(unit_id="dept-b", fen=1_000, kind="adjustment"),
            Award(unit_id="dept-c", fen=0, kind="adjustment"),
            revision=2,
        )
    )
    awards = {
        n.recipient.unit_id: dict(n.key_numbers) for n in notices if n.type is NoticeType.AWARD
    }
    assert set(awards) == {"dist-a", "dept-b"}
    assert awards["dist-a"]["kind"] == "adjustment" and awards["dist-a"]["yuan"] == "-10.00"
    assert len({n.key for n in notices}) == len(notices)
    assert all(n.about == "allocation:2018-5-r2" for n in notices)
