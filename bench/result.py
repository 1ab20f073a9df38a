"""What a benchmark returns: our time, the raw baseline's time in the same run, the target;
optionally the figures behind them (rates, latencies, counts, memory) for the report."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

# One measured or recorded figure: a rate, a latency, a count, a size, or a short text.
Figure = float | int | str


@dataclass(frozen=True)
class Headline:
    """The comparison a reader wants, in its own unit: ``ours 4,500 ev/s vs raw 9,000 ev/s``.

    ``higher_is_better``: a rate (shown as a share of raw: 50%); otherwise a time, latency or
    size (shown as a multiple of raw: 2.0×). ``raw`` is None when there is no raw figure in
    that unit (e.g. memory against a fixed ceiling)."""

    ours: float
    raw: float | None
    unit: str
    higher_is_better: bool = False


@dataclass(frozen=True)
class Result:
    """``ratio = ours / raw``; ``ok`` when it is at most ``target`` (for a throughput ratio
    where higher is better, report time per unit of work so that lower stays better).

    The keyword-only extras are for the report: ``what`` says what was measured (with its
    counts), ``figures`` holds the numbers behind it, ``headline`` the comparison in its own
    unit, ``goal`` the target in words. ``met`` is the verdict of an absolute target (e.g. p99
    under 100 ms); when it is set, it decides ``ok`` and the ratio is context only."""

    name: str
    ours: float
    raw: float
    target: float
    notes: tuple[str, ...] = field(default=())
    what: str = ""
    figures: Mapping[str, Figure] = field(default_factory=dict)
    headline: Headline | None = None
    goal: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float:
        if self.raw == 0:
            return math.inf if self.ours else math.nan
        return self.ours / self.raw

    @property
    def ok(self) -> bool:
        if self.met is not None:
            return self.met
        return self.ratio <= self.target

    @property
    def goal_text(self) -> str:
        """The target in words: ``goal`` if given, else the time ratio's ceiling."""
        return self.goal or f"time ≤ {self.target:g}× raw"


def rates(count: int, ours_seconds: float, raw_seconds: float, unit: str) -> Headline:
    """``count`` items done in each time, as rates per second (higher is better)."""
    return Headline(count / ours_seconds, count / raw_seconds, unit, higher_is_better=True)


def failed(name: str, error: BaseException) -> Result:
    """A benchmark that raised: recorded (and failing the run) rather than losing the others."""
    text = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    return Result(name, math.nan, math.nan, math.nan, notes=(f"failed: {text}",), met=False)


# A benchmark: (nats_url, database_url, size) -> Result. Each module of the package lists its
# own in a ``BENCHMARKS`` tuple; ``python -m bench`` finds them.
Bench = Callable[[str, str, int], Awaitable[Result]]
