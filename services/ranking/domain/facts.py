"""Helpers for folding event facts that arrive in any order, possibly more than once."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

__all__ = ["dedupe"]

F = TypeVar("F")


def dedupe(facts: Iterable[F], key: Callable[[F], Hashable], what: str) -> list[F]:
    """Keep one fact per ``key`` (an aggregate's version, an event id).

    At-least-once delivery repeats facts, so an identical repeat is dropped. Two *different* facts
    under one key mean the upstream log is broken; folding either would make the result depend on
    arrival order, so that is refused loudly instead.
    """
    seen: dict[Hashable, F] = {}
    for fact in facts:
        k = key(fact)
        previous = seen.get(k)
        if previous is None:
            seen[k] = fact
        elif previous != fact:
            raise ValueError(f"conflicting {what} facts for {k!r}: {previous!r} vs {fact!r}")
    return list(seen.values())
