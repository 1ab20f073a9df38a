"""``python -m tools.backup create|restore DIR``: the arguments, the URLs (the services'
settings unless given) and the exit codes (0 done, 1 failed, 2 refused)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import tools.backup
from services.runtime.settings import SharedSettings
from tools.backup.commands import create, restore
from tools.backup.errors import Failed, Refused


def main(argv: list[str] | None = None) -> int:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("directory", type=Path, metavar="DIR", help="the backup folder")
    shared.add_argument("--nats-url", help="default: NATS_URL, else the services' default")
    shared.add_argument("--database-url", help="default: DATABASE_URL, else the services' default")
    parser = argparse.ArgumentParser(
        prog="python -m tools.backup", description=(tools.backup.__doc__ or "").split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "create", parents=[shared], help="PostgreSQL, then the streams, into a new folder DIR"
    )
    commands.add_parser(
        "restore", parents=[shared], help="DIR into an empty database and an empty JetStream"
    )
    args = parser.parse_args(argv)
    settings = SharedSettings()
    nats_url = args.nats_url or settings.nats_url.get_secret_value()
    database_url = args.database_url or settings.database_url.get_secret_value()
    action = create if args.command == "create" else restore
    try:
        asyncio.run(action(args.directory, nats_url, database_url))
    except Refused as exc:
        print(f"{args.command} refused: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0
