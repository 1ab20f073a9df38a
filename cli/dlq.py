"""``chuangwen dlq``: dead letters (ops): list them, replay them onto their original subject."""

from __future__ import annotations

from typing import Annotated

import typer
from nats.aio.client import Client

from cli import bus, console, context
from cli.bus import DeadLetterEntry, Replayed
from cli.errors import CliError
from cli.views.ops import dlq_table, payload_preview

app = typer.Typer(help="Dead letters on the DLQ stream (ops): list, replay.", no_args_is_help=True)


@app.command("list")
def list_letters(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option(help="only dlq.<service>")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    from_seq: Annotated[int, typer.Option("--from-seq", min=1, help="DLQ sequence")] = 1,
    payload: Annotated[bool, typer.Option("--payload", help="show each payload")] = False,
) -> None:
    """Dead letters with their reason, original subject and stream sequence.

    Example: chuangwen --nats-url nats://127.0.0.1:4222 dlq list --service ranking
    """

    async def job(nc: Client) -> tuple[list[DeadLetterEntry], int]:
        return await bus.dead_letters(nc, service, limit, from_seq)

    entries, total = bus.run(context.config(ctx).nats_url, job)
    out = console.out()
    out.print(dlq_table(entries, total))
    if payload:
        for entry in entries:
            out.print(f"[bold]{entry.seq}[/]: {payload_preview(entry)}", markup=True)


@app.command("replay")
def replay(
    ctx: typer.Context,
    seqs: Annotated[list[int], typer.Argument(help="DLQ sequences (see `dlq list`)")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Publish each dead letter's original payload again on its original subject.

    JetStream stores it under a new Nats-Msg-Id and delivers it again to every consumer of the
    subject (consumers that already applied the event ignore it). Fix the cause first.

    Example: chuangwen dlq replay 12 13 --yes
    """
    nats_url = context.config(ctx).nats_url

    async def fetch(nc: Client) -> list[DeadLetterEntry]:
        return [await bus.dead_letter(nc, seq) for seq in seqs]

    entries = bus.run(nats_url, fetch)
    console.out().print(dlq_table(entries, len(entries)))
    if not yes and not typer.confirm(f"Replay {len(entries)} dead letter(s)?", default=False):
        raise CliError("nothing replayed (not confirmed)")

    async def publish(nc: Client) -> list[Replayed]:
        return [await bus.replay(nc, entry) for entry in entries]

    for done in bus.run(nats_url, publish):
        console.out().print(
            f"replayed DLQ {done.dlq_seq} → {done.subject} ({done.stream} seq {done.seq})"
        )
