"""The state shared by the commands of one invocation (set by the root callback)."""

from __future__ import annotations

import typer

from cli.client import Api
from cli.config import Config


def config(ctx: typer.Context) -> Config:
    root = ctx.find_root()
    found = root.obj
    if not isinstance(found, Config):
        found = Config()
        root.obj = found
    return found


def api(ctx: typer.Context) -> Api:
    return Api(config(ctx))
