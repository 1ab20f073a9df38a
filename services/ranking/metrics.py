"""Prometheus metrics of the ranking service (exposed on ``/metrics`` with the runtime's)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SCHEDULED_HELD_BACK = Gauge(
    "chuangwen_ranking_scheduled_edition_held_back",
    "1 while the due scheduled edition waits because the projection is behind its input"
    " streams (e.g. a message dead-lettered after max_deliver); 0 otherwise",
)
HELD_BACK_TOTAL = Counter(
    "chuangwen_ranking_edition_held_back_total",
    "Publications refused or postponed because the projection was behind",
    ["trigger"],
)
PROJECTION_BEHIND = Gauge(
    "chuangwen_ranking_projection_behind_messages",
    "Sequences of an input stream the projection had not applied at the last check",
    ["stream"],
)
FORCED_TOTAL = Counter(
    "chuangwen_ranking_editions_forced_total",
    "Editions the office published with force while the projection was behind",
)
