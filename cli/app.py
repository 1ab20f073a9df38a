"""The ``chuangwen`` command: global options, command groups, one-line errors."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cli import console, dlq, editions, fund, issues, status, units
from cli.config import DEFAULT_NATS_URL, DEFAULT_TOKEN, SERVICES, Config, default_url
from cli.demo import command as demo
from cli.errors import CliError


class Group(TyperGroup):
    """Prints a `CliError` as one line on stderr and exits 1 (no traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            console.err().print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=Group,
    name="chuangwen",
    help="Chuangwen 创文督办: the campaign office's and ops' command line.\n\n"
    "Example: chuangwen editions show",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _url_option(service: str) -> Any:
    return typer.Option(
        f"--{service}-url",
        envvar=f"CHUANGWEN_{service.upper()}_URL",
        help=f"the {service} service",
        show_default=True,
    )


@app.callback()
def main_options(
    ctx: typer.Context,
    issues_url: Annotated[str, _url_option("issues")] = default_url("issues"),
    ranking_url: Annotated[str, _url_option("ranking")] = default_url("ranking"),
    notify_url: Annotated[str, _url_option("notify")] = default_url("notify"),
    incentives_url: Annotated[str, _url_option("incentives")] = default_url("incentives"),
    token: Annotated[
        str, typer.Option(envvar="CHUANGWEN_TOKEN", help="bearer token (dev-office, dev-ops, ...)")
    ] = DEFAULT_TOKEN,
    nats_url: Annotated[
        str, typer.Option(envvar="CHUANGWEN_NATS_URL", help="NATS for status and dlq")
    ] = DEFAULT_NATS_URL,
    timeout: Annotated[float, typer.Option(min=0.1, help="HTTP timeout, seconds")] = 60.0,
) -> None:
    """Chuangwen 创文督办: the campaign office's and ops' command line.

    Example: chuangwen --token dev-viewer editions show
    """
    urls = dict(zip(SERVICES, (issues_url, ranking_url, notify_url, incentives_url), strict=True))
    ctx.obj = Config(urls=urls, token=token, nats_url=nats_url, timeout=timeout)


app.add_typer(units.app, name="units")
app.add_typer(issues.app, name="issues")
app.add_typer(editions.app, name="editions")
app.add_typer(fund.fund_app, name="fund")
app.add_typer(fund.ledger_app, name="ledger")
app.add_typer(dlq.app, name="dlq")
app.command("status")(status.status)
app.command("demo")(demo.demo)


def main() -> None:
    app(prog_name="chuangwen")
