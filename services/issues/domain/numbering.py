"""Human issue numbers (R2.1): ``JM-2018-000123``, unique and gap-free per year.

The sequence itself is kept by the caller (one counter per prefix and year, advanced in the same
transaction as the report); this module only formats, parses and picks the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.issues.domain.instants import CAMPAIGN_TZ, require_aware

__all__ = ["IssueNumber", "issue_number", "numbering_year", "parse_issue_number"]

_PREFIX = re.compile(r"^[A-Z]{1,10}$")
# Six digits at least; a year with more than 999,999 issues widens the field rather than wrap.
_NUMBER = re.compile(r"^([A-Z]{1,10})-([0-9]{4})-([0-9]{6,})$")


@dataclass(frozen=True, kw_only=True)
class IssueNumber:
    """The parts of an issue number; ``str()`` gives the canonical spelling."""

    prefix: str
    year: int
    seq: int

    def __str__(self) -> str:
        return issue_number(self.prefix, self.year, self.seq)


def issue_number(prefix: str, year: int, seq: int) -> str:
    """R2.1: ``issue_number("JM", 2018, 123) == "JM-2018-000123"``; ``seq`` starts at 1."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"prefix must be 1-10 capital letters, got {prefix!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have four digits, got {year}")
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1, got {seq}")
    return f"{prefix}-{year:04d}-{seq:06d}"


def parse_issue_number(text: str) -> IssueNumber:
    """Inverse of `issue_number`; only the canonical spelling is accepted (one spelling each)."""
    match = _NUMBER.match(text)
    if match is None:
        raise ValueError(f"not an issue number: {text!r}")
    parsed = IssueNumber(prefix=match[1], year=int(match[2]), seq=int(match[3]))
    if str(parsed) != text:  # e.g. "JM-2018-0000123": a second spelling of seq 123
        raise ValueError(f"not the canonical spelling of {parsed}: {text!r}")
    return parsed


def numbering_year(reported_at: datetime) -> int:
    """The year an issue is numbered in: the Asia/Shanghai calendar year of ``reported_at``."""
    return require_aware(reported_at, "reported_at").astimezone(CAMPAIGN_TZ).year
