"""Pipeline benchmarks (issue 7): the four services as separate processes under HTTP load.

One load run serves both benchmarks (whichever runs first makes it). The services start as
``make run`` starts them (``python -m services.<name>``, ``AUTH_MODE=dev``, ``LOG_LEVEL=WARNING``,
ranking's weekly schedule off) on a NATS server and a database of their own, so that their
streams and projections neither see nor leave behind the other benchmarks' events. Over HTTP:
N/100 units are registered and N issues reported (20 clients), every consumer of ``ISSUES``
catches up, then the issues are rectified in three paced phases (open loop, at most 100 in
flight, from an aiohttp client): a quarter at the issue's 1,000/s over HTTP alone; a quarter at
that pace again if the machine kept it, else at half the rate it reached (a pace it sustains)
but at most 50/s (``PROBE_RATE``); and the last half at that same HTTP pace with synthetic
issue events (reports and rectifications of units of their own, ``bench/_events.py``) published
to ``ISSUES`` beside it, so that the pipeline carries the issue's 1,000 events/s in all, 5% of
them over HTTP in every run. N is ``--messages``, at most 1,000.

- ``e2e_rectification_latency``: from each rectification's HTTP 2xx until ranking's projection
  reflects it, i.e. its ``issue_facts`` row is at or below the ``ISSUES`` input position (R7):
  from then on ``GET /v1/rates`` counts it. Seen when the commit that moved the position is
  heard (a trigger the benchmark adds to ranking's input positions sends a PostgreSQL
  notification, delivered at commit; ``bench/_ranking_watch.py``): ``/v1/rates`` computes every
  unit's rates and says nothing of one issue, too heavy to poll; it is called once at the end to
  check the count. The row shows the last phase. Raw baseline: bare nats-py, the same rectified
  payload (taken from the stream) published at the last phase's total event rate to a scratch
  stream, from the publish call until a pull consumer (fetch 100, ack) holds it (2 s of
  messages, 300 to 3,000). Target: p99 < 100 ms at 1,000 events/s; met only if the last phase
  carried that rate (95%) and every rectification was counted. Why synthetic events make up the
  rate: on this 2-core machine the issues service answers a few hundred rectifications/s at most
  (356-618/s in the first phase; ``issues_intake`` for reports), so 1,000 rectifications/s over
  HTTP measure the HTTP queue, not the pipeline; the issue's load on the bus is still 1,000
  events/s.
  Where the time goes, in two more figures: each event beside's time from its publish to
  JetStream's ack (ISSUES storing it, with an fsync per message: ``sync_interval: always``; as
  the load process sees it, so its own waits for a CPU are in it too), and a diagnostic second
  load run after the first, its own servers and database, identical but for JetStream's default
  sync (every 2 minutes; about 40 s more): its p99 is context, never the result, since
  Chuangwen does not run that way, and the machine may have drifted between the two runs
  (docs/decisions.md "Where the e2e tail forms").
- ``peak_rss_per_service``: each service's peak resident memory over the whole run (the
  kernel's ``VmHWM``, and psutil samples every 0.2 s), with its RSS once ready for context. No
  target in the issue: a generous ceiling of 512 MB each.
"""

from __future__ import annotations

import math
import statistics

from bench._pipeline_load import RATE, SYNC_ALWAYS, Phase, run_load
from bench._stack import SERVICES
from bench.result import Bench, Headline, Result

P99_TARGET_MS = 100.0
RSS_CEILING_MB = 512.0


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99, max."""
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[98], max(values)


def _acks(phase: Phase) -> tuple[float, float, float]:
    """p50, p99, max of the events beside's publish -> ack; NaN when there were too few (none
    are needed beside when HTTP alone keeps the issue's rate)."""
    if len(phase.beside_ack_ms) < 2:
        return math.nan, math.nan, math.nan
    return _quantiles(phase.beside_ack_ms)


def _phase_figures(name: str, phase: Phase) -> dict[str, float | int | str]:
    e2e, http = _quantiles(phase.e2e_ms), _quantiles(phase.http_ms)
    return {
        f"{name}_rectifications": len(phase.e2e_ms),
        f"{name}_rate_asked_per_s": phase.asked,
        f"{name}_rate_reached_per_s": phase.reached,
        f"{name}_p50_ms": e2e[0],
        f"{name}_p99_ms": e2e[1],
        f"{name}_max_ms": e2e[2],
        f"{name}_http_p50_ms": http[0],
        f"{name}_http_p99_ms": http[1],
        f"{name}_reflected_before_2xx_read": phase.early,
    }


async def _default_sync(database_url: str, count: int) -> tuple[dict[str, float | int | str], str]:
    """The diagnostic run's figures and note (`run_load`'s ``sync_always=False``)."""
    try:
        load = await run_load(database_url, count, sync_always=False)
    except Exception as exc:  # a diagnostic: its failure must not hide the measured run
        return {}, f"the diagnostic run with JetStream's default sync failed: {exc!r}"
    loaded = load.phases[-1]
    e2e, ack = _quantiles(loaded.e2e_ms), _acks(loaded)
    figures: dict[str, float | int | str] = {
        "default_sync_loaded_events_per_s": loaded.events_per_s,
        "default_sync_loaded_p50_ms": e2e[0],
        "default_sync_loaded_p99_ms": e2e[1],
        "default_sync_issues_ack_p50_ms": ack[0],
        "default_sync_issues_ack_p99_ms": ack[1],
    }
    note = (
        "diagnostic, not a result: a second load run, after the first and otherwise the same,"
        " on JetStream's default sync (an fsync every 2 minutes; Chuangwen runs"
        f" `{SYNC_ALWAYS}`): {loaded.reached:,.0f}/s over HTTP, {loaded.events_per_s:,.0f}"
        " events/s in all, p50"
        f" {e2e[0]:.1f} / p99 {e2e[1]:.1f} ms from the 2xx; ISSUES publish → ack p50 {ack[0]:.1f}"
        f" / p99 {ack[1]:.1f} ms"
    )
    return figures, note


async def e2e_rectification_latency(nats_url: str, database_url: str, count: int) -> Result:
    load = await run_load(database_url, count)
    first, sustained, loaded = load.phases
    ours, raw = _quantiles(loaded.e2e_ms), _quantiles(load.raw_ms)
    ack = _acks(loaded)
    diagnostic, diagnosis = await _default_sync(database_url, count)
    http_kept = first.reached >= 0.95 * RATE
    carried = loaded.events_per_s >= 0.95 * RATE
    p99s = [_quantiles(p.e2e_ms)[1] for p in load.phases]
    figures: dict[str, float | int | str] = {"issues": load.issues, "units": load.units}
    figures |= _phase_figures("issue_pace", first) | _phase_figures("sustained", sustained)
    figures |= _phase_figures("loaded", loaded)
    figures |= {"loaded_events_per_s": loaded.events_per_s}
    figures |= {"loaded_beside_asked_per_s": loaded.beside}
    figures |= {"loaded_beside_sent": loaded.beside_sent}
    figures |= {"raw_messages": len(load.raw_ms), "raw_p50_ms": raw[0], "raw_p99_ms": raw[1]}
    figures |= {"raw_max_ms": raw[2]}
    figures |= {"loaded_issues_ack_p50_ms": ack[0], "loaded_issues_ack_p99_ms": ack[1]}
    figures |= {"loaded_issues_ack_max_ms": ack[2]} | diagnostic
    figures |= {"rates_rectified": load.rated, "report_rate_per_s": load.report_rate}
    notes = (
        f"over HTTP alone, asked {RATE:,.0f}/s: reached {first.reached:,.0f}/s, p99"
        f" {p99s[0]:,.0f} ms"
        + ("" if http_kept else " (the issues service did not keep the pace on this machine)"),
        f"at {sustained.asked:,.0f}/s over HTTP alone: p50 {_quantiles(sustained.e2e_ms)[0]:.1f}"
        f" / p99 {p99s[1]:.1f} ms",
        f"at {loaded.reached:,.0f}/s over HTTP with {loaded.beside_reached:,.0f} synthetic issue"
        f" events/s beside on ISSUES ({loaded.events_per_s:,.0f} events/s in all): p50"
        f" {ours[0]:.1f} / p99 {ours[1]:.1f} / max {ours[2]:.1f} ms from the 2xx (the row)",
        f"ISSUES publish → ack of the events beside meanwhile (each message fsync'd; publish call"
        f" to the load's ack callback): p50 {ack[0]:.1f} / p99 {ack[1]:.1f} / max {ack[2]:.1f} ms",
        f"raw: nats-py publish → pull consumer, same payload, {loaded.events_per_s:,.0f}/s; p50"
        f" {raw[0]:.1f} / p99 {raw[1]:.1f} ms. GET /v1/rates counted {load.rated:,} rectified",
        diagnosis,
    )
    return Result(
        "e2e_rectification_latency",
        ours[1] / 1000,
        raw[1] / 1000,
        target=math.inf,
        notes=notes,
        what=f"{load.issues:,} rectifications over HTTP, 2xx → ranking's projection, the last"
        f" half with synthetic events beside up to {RATE:,.0f} events/s; 4 service processes",
        figures=figures,
        headline=Headline(ours[1], raw[1], f"ms p99 at {loaded.events_per_s:,.0f} events/s"),
        goal=f"p99 < {P99_TARGET_MS:.0f} ms at {RATE:,.0f} events/s",
        met=carried and p99s[2] < P99_TARGET_MS and load.rated == load.issues,
    )


async def peak_rss_per_service(nats_url: str, database_url: str, count: int) -> Result:
    load = await run_load(database_url, count)
    peak = load.rss_peak_mb
    figures: dict[str, float | int | str] = {"issues": load.issues, "ceiling_mb": RSS_CEILING_MB}
    for s in SERVICES:
        figures[f"{s}_ready_mb"] = load.rss_ready_mb.get(s, math.nan)
        figures[f"{s}_peak_mb"] = peak[s]
    top = max(peak.values())
    shown = ", ".join(f"{s} {peak[s]:.0f}" for s in SERVICES)
    return Result(
        "peak_rss_per_service",
        top,
        RSS_CEILING_MB,
        target=1.0,
        notes=(f"peak RSS MB: {shown} (no target in the issue; ceiling {RSS_CEILING_MB:.0f})",),
        what=f"peak RSS of each service through the pipeline run ({load.issues:,} issues"
        " reported, then rectified)",
        figures=figures,
        headline=Headline(top, None, "MB (largest)"),
        goal=f"each < {RSS_CEILING_MB:.0f} MB (a ceiling: no target in the issue)",
        met=top < RSS_CEILING_MB,
    )


BENCHMARKS: tuple[Bench, ...] = (e2e_rectification_latency, peak_rss_per_service)
