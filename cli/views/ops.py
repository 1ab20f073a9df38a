"""Ops views: health of each service, stream backlogs and consumer lag, dead letters."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from cli.bus import DeadLetterEntry, StreamState

from .text import local_time


@dataclass(frozen=True)
class Health:
    service: str
    url: str
    alive: bool
    ready: bool
    detail: str  # why not, or the readiness checks


def health_table(rows: list[Health]) -> Table:
    table = Table(title="服务 services", header_style="bold")
    for column in ("service", "url", "/healthz", "/readyz", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.service,
            row.url,
            "[green]ok[/]" if row.alive else "[red]down[/]",
            "[green]ready[/]" if row.ready else "[red]not ready[/]",
            row.detail,
        )
    return table


def readiness_detail(body: Any) -> str:
    """``{"ready": true, "checks": {"database": true, "nats": false}}`` → ``nats: failing``."""
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    failing = [name for name, ok in checks.items() if not ok]
    if failing:
        return ", ".join(f"{name}: failing" for name in failing)
    return ", ".join(f"{name}: ok" for name in checks) or ""


def streams_table(streams: list[StreamState]) -> Table:
    table = Table(title="streams", header_style="bold")
    for column in ("stream", "messages", "first seq", "last seq", "consumers"):
        table.add_column(column, justify="right" if column != "stream" else "left")
    for stream in streams:
        table.add_row(
            stream.name,
            str(stream.messages),
            str(stream.first_seq),
            str(stream.last_seq),
            str(len(stream.consumers)),
        )
    return table


def consumers_table(streams: list[StreamState]) -> Table:
    table = Table(title="durable consumers (lag)", header_style="bold")
    for column in ("stream", "consumer", "pending", "ack pending", "redelivered"):
        table.add_column(
            column, justify="right" if column not in ("stream", "consumer") else "left"
        )
    for stream in streams:
        for c in stream.consumers:
            lag = c.pending + c.ack_pending
            style = "yellow" if lag else ""
            table.add_row(
                stream.name,
                c.name,
                str(c.pending),
                str(c.ack_pending),
                str(c.redelivered),
                style=style,
            )
    return table


def total_lag(streams: list[StreamState], prefix: str = "") -> int:
    """Messages not yet processed by the consumers whose names start with ``prefix``."""
    return sum(
        c.pending + c.ack_pending for s in streams for c in s.consumers if c.name.startswith(prefix)
    )


def dlq_table(entries: list[DeadLetterEntry], total: int) -> Table:
    shown = f"{len(entries)} of {total}" if total != len(entries) else str(total)
    table = Table(title=f"dead letters ({shown})", header_style="bold")
    for column in ("DLQ seq", "service", "subject", "stream seq", "deliveries", "failed at"):
        table.add_column(column)
    table.add_column("reason", overflow="fold")
    for entry in entries:
        letter = entry.letter
        position = f"{letter.get('stream') or '—'}:{letter.get('stream_sequence') or '—'}"
        table.add_row(
            str(entry.seq),
            str(letter.get("service", entry.subject.removeprefix("dlq."))),
            str(letter.get("original_subject", "")),
            position,
            str(letter.get("delivery_count", "")),
            local_time(letter.get("failed_at"), seconds=True),
            str(letter.get("reason", "")),
        )
    return table


def payload_preview(entry: DeadLetterEntry, limit: int = 300) -> str:
    """The start of the dead-lettered payload, on one line."""
    payload = str(entry.letter.get("payload", ""))
    with contextlib.suppress(ValueError):
        payload = json.dumps(json.loads(payload), ensure_ascii=False)
    return payload if len(payload) <= limit else payload[: limit - 1] + "…"
