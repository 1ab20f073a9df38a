"""The two ways a backup or restore stops: refused (exit 2) or failed (exit 1)."""

from __future__ import annotations


class Refused(Exception):
    """The command will not act (exit 2): nothing was changed."""


class Failed(Exception):
    """A server or a tool failed (exit 1)."""
