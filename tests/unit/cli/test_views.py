"""Pure formatting of the CLI: no servers."""

from __future__ import annotations

from typing import Any

from cli.bus import ConsumerState, DeadLetterEntry, StreamState
from cli.views.editions import board, edition_summary, edition_title, list_members
from cli.views.funds import awards_table, fund_table, totals_by_unit, yuan
from cli.views.issues import issue_detail, issues_table, rejected_rows_table
from cli.views.ops import Health, dlq_table, health_table, readiness_detail, total_lag
from cli.views.text import detail_text, http_error_message, local_time, percent, render_text


def row(unit_id: str, name: str, rank: int, composite: str, rate: str | None) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "name": name,
        "rank": rank,
        "composite": {"exact": "x", "display": composite},
        "rate": {"exact": "x", "display": rate} if rate else None,
        "score": {"exact": "x", "display": "88.50", "month": "2018-05"},
        "reported": 10,
        "rectified": 9,
        "overdue": 1,
        "rework": 2,
    }


EDITION: dict[str, Any] = {
    "year": 2018,
    "number": 17,
    "revision": 2,
    "cutoff": "2018-08-26T16:00:00Z",
    "rule_version": "v1",
    "campaign": {
        "reported": 3440,
        "rectified": 3107,
        "rate": {"exact": "3107/3440", "display": "90.32"},
        "overdue": 12,
        "rework": 40,
    },
    "categories": {
        "district": {
            "rows": [
                row("dist-a", "蓬江区", 1, "95.10", "96.00"),
                row("dist-b", "江海区", 2, "80.00", "81.00"),
            ],
            "red": ["dist-a"],
            "black": ["dist-b"],
        },
        "town": {"rows": [], "red": [], "black": []},
        "department": {
            "rows": [row("dept-x", "市城管局", 1, "99.00", None)],
            "red": ["dept-x"],
            "black": [],
        },
    },
}


def test_the_board_shows_red_and_black_lists_in_chinese_with_ranks_scores_and_rates() -> None:
    text = render_text(board(EDITION))
    assert "2018 年第 17 期红黑榜（修订 2）" in text
    assert "截止 2018-08-27 00:00（北京时间）" in text  # the cutoff in Asia/Shanghai
    assert "全市整改率 90.32%（3107/3440）" in text
    red, black = text.index("红榜 · 区（县级市）"), text.index("黑榜 · 区（县级市）")
    assert red < text.index("蓬江区") < black < text.index("江海区")
    assert "95.10" in text and "96.00%" in text and "88.50（2018-05）" in text
    assert "黑榜 · 镇（街道）：（无）" in text
    assert "—" in render_text(board(EDITION))  # an undefined rate


def test_the_full_board_adds_every_ranked_unit() -> None:
    assert "全部排名 · 区（县级市）" in render_text(board(EDITION, full=True))
    assert "全部排名" not in render_text(board(EDITION))


def test_titles_and_members() -> None:
    assert edition_title({**EDITION, "preview": True}) == "2018 年红黑榜预览（未发布）"
    assert "超期 12" in edition_summary(EDITION)
    assert list_members(EDITION, "black") == {"district": ["江海区"], "town": [], "department": []}


def test_http_errors_become_one_readable_line() -> None:
    fields = {"detail": [{"loc": ["body", "unit_id"], "msg": "unknown unit 'x'", "type": "t"}]}
    assert http_error_message("issues", 422, fields) == (
        "issues answered HTTP 422: unit_id: unknown unit 'x'"
    )
    conflict = {"detail": "cannot rectify", "current_state": "void", "attempted": "rectify"}
    assert http_error_message("issues", 409, conflict).endswith("(current state: void)")
    assert http_error_message("ranking", 502, "<html>\n Bad   gateway</html>") == (
        "ranking answered HTTP 502: <html> Bad gateway</html>"
    )
    assert http_error_message("notify", 500, "") == "notify answered HTTP 500: (empty body)"
    long = http_error_message("x", 400, {"detail": "a" * 1000})
    assert len(long) < 450 and "\n" not in long


def test_detail_text_and_small_helpers() -> None:
    assert (
        detail_text([{"loc": ["query", "status"], "msg": "bad"}, "other"]) == "status: bad; other"
    )
    assert local_time("2018-05-06T16:00:00Z") == "2018-05-07 00:00"
    assert local_time(None) == "—"
    assert percent(None) == "—" and percent({"display": "90.31"}) == "90.31%"


def test_money_is_exact_fen_shown_in_yuan() -> None:
    assert yuan(800_000_000) == "8,000,000.00"
    assert yuan(-5) == "-0.05"
    entries = [
        {"unit_id": "a", "fen": 100, "edition": 1},
        {"unit_id": "b", "fen": 300, "edition": 1},
        {"unit_id": "a", "fen": 250, "edition": 2},
        {"unit_id": "a", "fen": -50, "edition": 2},
    ]
    assert totals_by_unit(entries) == [("a", 300, 2), ("b", 300, 1)]  # ties by unit id
    text = render_text(awards_table(entries, {"a": "蓬江区"}))
    assert "蓬江区" in text and "3.00" in text
    fund = {
        "year": 2018,
        "fund_fen": 800_000_000,
        "allocated_fen": 15_094_339,
        "remaining_fen": 784_905_661,
        "editions_settled": 1,
        "planned_editions": 53,
    }
    text = render_text(fund_table(fund))
    assert "2018 年创文绩效激励资金" in text and "150,943.39" in text and "7,849,056.61" in text


def test_issue_views() -> None:
    issue = {
        "issue_id": "f265ab9b-e174-4e86-a1ac-7c9ddcceccdd",
        "number": "JM-2018-000001",
        "unit_id": "dist-pengjiang",
        "category": "暴露垃圾",
        "state": "reopened",
        "reported_at": "2018-05-02T02:00:00+00:00",
        "deadline": "2018-05-05T01:00:00+00:00",
        "rework_count": 1,
        "address": "江门市蓬江区",
        "photos": ["https://p.example/1.jpg"],
    }
    text = render_text(issues_table([issue]))
    assert "JM-2018-000001" in text and "返工" in text and "2018-05-02 10:00" in text
    history = [
        {"version": 1, "kind": "reported", "actor": "backfill", "at": "2018-05-02T02:00:00Z"},
        {
            "version": 2,
            "kind": "inspection_fail",
            "actor": "api",
            "at": "2018-05-04T02:00:00Z",
            "data": {"by": "dev-inspector", "note": "问题反弹"},
        },
    ]
    text = render_text(issue_detail(issue, history))
    assert "复查未通过" in text and "dev-inspector" in text and "note=问题反弹" in text


def test_rejected_rows_show_every_row_field_and_reason() -> None:
    rejected: list[dict[str, Any]] = [
        {"row": 2, "unit_id": "foo", "errors": [{"path": "category", "message": "bad category"}]},
        {"row": 3, "unit_id": None, "errors": [{"path": "name", "message": "Field required"}]},
    ]
    text = render_text(rejected_rows_table(rejected))
    assert "被拒绝的行" in text and "bad category" in text and "Field required" in text


def test_ops_views() -> None:
    streams = [
        StreamState(
            "ISSUES",
            10,
            1,
            10,
            [ConsumerState("ISSUES", "ranking-issues", 3, 1, 0)],
        ),
        StreamState("RANKING", 2, 1, 2, [ConsumerState("RANKING", "notify-x", 0, 2, 1)]),
    ]
    assert total_lag(streams) == 6 and total_lag(streams, "ranking") == 4
    assert readiness_detail({"ready": False, "checks": {"database": True, "nats": False}}) == (
        "nats: failing"
    )
    rows = [Health("issues", "http://x", False, False, "down")]
    assert "down" in render_text(health_table(rows))
    letter = {
        "service": "ranking",
        "original_subject": "issues.v1.reported",
        "stream": "ISSUES",
        "stream_sequence": 42,
        "delivery_count": 5,
        "reason": "boom",
        "failed_at": "2018-05-02T02:00:00Z",
        "payload": "{}",
    }
    text = render_text(dlq_table([DeadLetterEntry(7, "dlq.ranking", letter)], 9))
    assert "dead letters (1 of 9)" in text and "ISSUES:42" in text and "boom" in text
