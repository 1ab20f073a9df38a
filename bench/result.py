"""What a benchmark returns: our time, the raw baseline's time in the same run, the target."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Result:
    """``ratio = ours / raw``; ``ok`` when it is at most ``target`` (for a throughput ratio
    where higher is better, report time per unit of work so that lower stays better)."""

    name: str
    ours: float
    raw: float
    target: float
    notes: tuple[str, ...] = field(default=())

    @property
    def ratio(self) -> float:
        return self.ours / self.raw

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target


# A benchmark: (nats_url, database_url, size) -> Result. Each module of the package lists its
# own in a ``BENCHMARKS`` tuple; ``python -m bench`` finds them.
Bench = Callable[[str, str, int], Awaitable[Result]]
