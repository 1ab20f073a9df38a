"""Where output goes: tables to stdout, errors and progress to stderr."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

WIDTH_WHEN_PIPED = 160


def _width(stream: object) -> int | None:
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else WIDTH_WHEN_PIPED


def out() -> Console:
    """stdout, created per call so that a test runner's captured stream is used."""
    return Console(width=_width(sys.stdout), highlight=False)


def err() -> Console:
    return Console(stderr=True, width=_width(sys.stderr), highlight=False)


def progress() -> Progress:
    """A progress bar on stderr (hidden when stderr is not a terminal)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=False,
    )
