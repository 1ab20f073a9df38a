"""``chuangwen status``: each service's health, stream backlogs and consumer lag (ops)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import bus, console, context
from cli.bus import StreamState
from cli.client import Api
from cli.config import SERVICES
from cli.errors import CliError, HttpError
from cli.views.ops import Health, consumers_table, health_table, readiness_detail, streams_table


def check(api: Api, service: str) -> Health:
    url = api.config.url(service)
    try:
        api.get(service, "/healthz")
    except CliError as exc:
        return Health(service, url, False, False, str(exc).split(";")[0])
    try:
        body = api.get(service, "/readyz")
        return Health(service, url, True, bool(body.get("ready")), readiness_detail(body))
    except HttpError as exc:
        return Health(service, url, True, False, readiness_detail(exc.body) or str(exc))
    except CliError as exc:
        return Health(service, url, True, False, str(exc))


def healths(api: Api) -> list[Health]:
    return [check(api, service) for service in SERVICES]


def status(
    ctx: typer.Context,
    no_nats: Annotated[bool, typer.Option("--no-nats", help="skip the streams")] = False,
) -> None:
    """Each service's /healthz and /readyz, each stream's messages and each durable's lag.

    Exits 1 when a service is down or not ready, or NATS cannot be reached.

    Example: chuangwen status
    """
    config = context.config(ctx)
    with context.api(ctx) as api:
        rows = healths(api)
    out = console.out()
    out.print(health_table(rows))
    streams: list[StreamState] = []
    nats_error = None
    if not no_nats:
        try:
            streams = bus.run(config.nats_url, bus.streams)
        except CliError as exc:
            nats_error = str(exc)
        else:
            out.print(streams_table(streams))
            out.print(consumers_table(streams))
    bad = [r.service for r in rows if not (r.alive and r.ready)]
    if bad or nats_error:
        problems = [f"not healthy: {', '.join(bad)}"] if bad else []
        problems += [nats_error] if nats_error else []
        raise CliError("; ".join(problems))
