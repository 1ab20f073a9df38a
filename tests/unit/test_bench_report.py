"""The benchmark report renders results as they are: pure rendering from fake results and a
fake environment, no servers and no timing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench import report
from bench.result import Headline, Result, failed, rates

ENV: dict[str, Any] = {
    "started": "2026-01-05T08:00:00+00:00",
    "finished": "2026-01-05T08:04:00+00:00",
    "command": "python -m bench --messages 5000",
    "args": {"messages": 5000, "only": "", "out": "bench/results"},
    "git": {"commit": "0123456789abcdef0123", "dirty": True},
    "machine": {
        "cores": 2,
        "memory_gib": 23.5,
        "cpu": "AMD EPYC",
        "os": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "Linux-6.1-x86_64",
        "load_average": [1.5, 1.2, 1.0],
    },
    "versions": {"python": "3.11.7", "nats-server": "nats-server: v2.15.1", "faststream": "0.7.8"},
}

# Built the old way: positional, no figures (e.g. a benchmark not updated yet).
PLAIN = Result("ranking_rebuild", 2.0, 0.5, target=100.0, notes=("replayed 5000",))
# 4,500 ev/s against 9,000 ev/s: half the raw rate, time ratio 2.0 within 3.0.
CONSUME = Result(
    "consume_apply_once",
    10 / 9,
    5 / 9,
    target=3.0,
    what="5,000 events consumed",
    figures={"events": 5000, "ours_events_per_s": 4500.0},
    headline=rates(5000, 10 / 9, 5 / 9, "ev/s"),
    goal="≥ 33% of the raw rate",
)
# An absolute target missed although the ratio is small: the verdict decides.
LATENCY = Result(
    "e2e_rectification_latency",
    0.150,
    0.100,
    target=math.inf,
    notes=("asked 1,000/s | reached 27/s",),
    headline=Headline(150.0, 100.0, "ms p99"),
    goal="p99 < 100 ms at 1,000/s",
    met=False,
)
MEMORY = Result(
    "peak_rss_per_service",
    85.0,
    512.0,
    target=1.0,
    headline=Headline(85.0, None, "MB (largest)"),
    met=True,
)


def row(markdown: str, name: str) -> list[str]:
    line = next(ln for ln in markdown.splitlines() if ln.startswith(f"| {name} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def test_a_result_built_the_old_way_is_judged_by_its_time_ratio() -> None:
    assert PLAIN.ratio == 4.0
    assert PLAIN.ok
    assert PLAIN.goal_text == "time ≤ 100× raw"
    assert PLAIN.figures == {}
    assert PLAIN.headline is None


def test_an_absolute_verdict_overrides_the_ratio() -> None:
    assert LATENCY.ratio < 2
    assert not LATENCY.ok
    assert MEMORY.ok


def test_a_rate_is_shown_in_its_unit_and_as_a_share_of_raw() -> None:
    cells = row(report.render_markdown([CONSUME], ENV), "consume_apply_once")
    assert cells[1:7] == [
        "5,000 events consumed",
        "4,500 ev/s",
        "9,000 ev/s",
        "50% of raw",
        "≥ 33% of the raw rate",
        "yes",
    ]


def test_a_plain_result_is_shown_in_seconds_with_its_time_ratio() -> None:
    cells = row(report.render_markdown([PLAIN], ENV), "ranking_rebuild")
    assert cells[2:7] == ["2.00 s", "0.50 s", "4.00×", "time ≤ 100× raw", "yes"]
    assert cells[7] == "replayed 5000"


def test_a_missed_target_a_missing_raw_and_pipes_in_notes() -> None:
    markdown = report.render_markdown([LATENCY, MEMORY], ENV)
    latency = row(markdown, "e2e_rectification_latency")
    assert latency[2:6] == ["150 ms p99", "100 ms p99", "1.50× raw", "p99 < 100 ms at 1,000/s"]
    assert latency[6] == "**NO**"
    assert latency[7] == "asked 1,000/s \\| reached 27/s"
    assert row(markdown, "peak_rss_per_service")[3:5] == ["–", "–"]


def test_the_markdown_states_the_machine_versions_counts_and_commit() -> None:
    markdown = report.render_markdown([CONSUME], ENV)
    assert "messages per benchmark: 5,000" in markdown
    assert "commit 0123456789ab (uncommitted changes)" in markdown
    assert "| cores | 2 |" in markdown
    assert "| memory | 23.5 GiB |" in markdown
    assert "| CPU | AMD EPYC |" in markdown
    assert "| nats-server | nats-server: v2.15.1 |" in markdown
    assert "- **consume_apply_once**: events 5,000, ours_events_per_s 4,500" in markdown
    assert "Partial run" not in markdown


def test_a_partial_run_says_so() -> None:
    env = {**ENV, "args": {**ENV["args"], "only": "e2e"}}
    assert "Partial run: only benchmarks matching `e2e`." in report.render_markdown([], env)


def test_the_json_holds_every_result_with_its_figures_and_verdict() -> None:
    doc = json.loads(report.render_json([PLAIN, CONSUME, LATENCY], ENV))
    assert doc["machine"]["cores"] == 2
    assert doc["versions"]["faststream"] == "0.7.8"
    assert doc["ok"] is False
    by_name = {r["name"]: r for r in doc["results"]}
    assert by_name["consume_apply_once"]["figures"] == {"events": 5000, "ours_events_per_s": 4500}
    assert by_name["consume_apply_once"]["headline"]["unit"] == "ev/s"
    assert by_name["consume_apply_once"]["ok"] is True
    assert by_name["ranking_rebuild"]["headline"] is None
    assert by_name["e2e_rectification_latency"]["target"] is None  # infinity is not JSON
    assert by_name["e2e_rectification_latency"]["ok"] is False


def test_a_benchmark_that_raised_is_recorded_as_failed_and_stays_strict_json() -> None:
    broken = failed("ranking_rebuild", RuntimeError("stream gone\nsecond line"))
    assert not broken.ok
    assert broken.notes == ("failed: RuntimeError: stream gone",)

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    doc = json.loads(report.render_json([broken], ENV), parse_constant=refuse)
    assert doc["results"][0]["ours"] is None
    assert row(report.render_markdown([broken], ENV), "ranking_rebuild")[2:4] == ["– s", "– s"]


def test_write_puts_both_files_in_the_folder(tmp_path: Path) -> None:
    as_json, as_md = report.write(tmp_path / "results", [CONSUME], ENV)
    assert as_json.name == "latest.json"
    assert as_md.name == "latest.md"
    assert json.loads(as_json.read_text())["results"][0]["name"] == "consume_apply_once"
    assert as_md.read_text().startswith("# Benchmarks")
