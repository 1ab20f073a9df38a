"""Streams and subjects (ARCHITECTURE.md "Messaging").

One stream per producer, file storage, unlimited retention (editions must stay recomputable,
R7). Commands live on ``cmd.<service>.v1.<verb>`` and no stream captures them.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAYLOAD_BYTES = 8 * 1024 * 1024  # a 10,000-unit edition is about 2.5 MB
DUPLICATE_WINDOW_SECONDS = 120.0  # JetStream drops a repeated Nats-Msg-Id inside this window


@dataclass(frozen=True)
class StreamSpec:
    """A JetStream stream owned by one producer."""

    name: str
    subjects: tuple[str, ...]
    owner: str
    description: str


ISSUES = StreamSpec("ISSUES", ("issues.v1.>", "units.v1.>"), "issues", "Units and issues (R1, R2)")
ASSESSMENTS = StreamSpec(
    "ASSESSMENTS",
    ("assessments.v1.>",),
    "ranking",
    "Monthly on-site assessment scores (R4.2), from other systems and ranking's API",
)
RANKING = StreamSpec("RANKING", ("ranking.v1.>",), "ranking", "Editions and rate reports (R4)")
INCENTIVES = StreamSpec("INCENTIVES", ("incentives.v1.>",), "incentives", "Allocations (R6)")
NOTIFY = StreamSpec("NOTIFY", ("notify.v1.>",), "notify", "Deliveries (R5)")
DLQ = StreamSpec("DLQ", ("dlq.>",), "runtime", "Dead letters, one subject per consuming service")

ALL_STREAMS: tuple[StreamSpec, ...] = (ISSUES, ASSESSMENTS, RANKING, INCENTIVES, NOTIFY, DLQ)


def stream_for_subject(subject: str) -> StreamSpec:
    """The stream whose subjects capture ``subject`` (only ``<prefix>.v1.>`` patterns are used)."""
    for spec in ALL_STREAMS:
        for pattern in spec.subjects:
            if subject.startswith(pattern.removesuffix(">")):
                return spec
    raise KeyError(f"no stream captures subject {subject!r}")


def dead_letter_subject(service: str) -> str:
    """``dlq.<service>``: where a consuming service parks what it cannot apply."""
    return f"dlq.{service}"


def command_subject(service: str, verb: str) -> str:
    """``cmd.<service>.v1.<verb>``: request-reply, never captured by a stream."""
    return f"cmd.{service}.v1.{verb}"
