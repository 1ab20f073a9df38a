"""The ranking service's view of issues (督查问题, R2): each issue's state as of a cutoff T.

The issues service decides transitions (R2.3) and publishes them as facts; this module only
folds the facts it is given, in a fixed order, so any arrival order gives the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.ranking.domain.facts import dedupe
from services.ranking.domain.instants import require_aware

__all__ = [
    "IssueFact",
    "IssueKind",
    "IssueSnapshot",
    "IssueState",
    "IssueSummary",
    "issue_as_of",
    "issue_summary",
    "issues_as_of",
]


class IssueKind(StrEnum):
    """The `issues.v1.*` events."""

    REPORTED = "reported"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    REOPENED = "reopened"
    VOIDED = "voided"
    OVERDUE = "overdue"
    TRANSFERRED = "transferred"
    EXTENDED = "extended"


class IssueState(StrEnum):
    """R2.3 states."""

    OPEN = "open"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    REOPENED = "reopened"
    VOID = "void"


_STATE_AFTER = {
    IssueKind.RECTIFIED: IssueState.RECTIFIED,
    IssueKind.VERIFIED: IssueState.VERIFIED,
    IssueKind.REOPENED: IssueState.REOPENED,
    IssueKind.VOIDED: IssueState.VOID,
}


# What each kind of fact must carry (IssueFact).
_NEEDS = {
    IssueKind.REPORTED: ("unit_id", "reported_at", "deadline"),
    IssueKind.TRANSFERRED: ("unit_id",),
    IssueKind.EXTENDED: ("deadline",),
}


@dataclass(frozen=True, kw_only=True)
class IssueFact:
    """One `issues.v1.*` event.

    ``reported`` carries ``unit_id``, ``reported_at`` and ``deadline``; ``transferred`` the new
    ``unit_id``; ``extended`` the new ``deadline``. Other kinds carry only the common fields.
    """

    issue_id: str
    kind: IssueKind
    occurred_at: datetime
    aggregate_version: int
    unit_id: str | None = None
    reported_at: datetime | None = None
    deadline: datetime | None = None

    def __post_init__(self) -> None:
        # Plain strings from decoded JSON become members; the fold compares them by identity.
        if type(self.kind) is not IssueKind:
            object.__setattr__(self, "kind", IssueKind(self.kind))
        require_aware(self.occurred_at, "occurred_at")
        if self.aggregate_version < 1:
            raise ValueError(f"aggregate_version starts at 1, got {self.aggregate_version}")
        for name in _NEEDS.get(self.kind, ()):
            if getattr(self, name) is None:
                raise ValueError(f"{self.kind} fact for issue {self.issue_id} needs {name}")
        for name in ("reported_at", "deadline"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, name)


@dataclass(frozen=True, kw_only=True)
class IssueSnapshot:
    """An issue as it stood at a cutoff T, with the per-issue facts R3 counts."""

    issue_id: str
    unit_id: str
    reported_at: datetime
    deadline: datetime
    state: IssueState
    rework_count: int
    first_rectified_at: datetime | None
    on_time: bool
    overdue: bool

    @property
    def counts(self) -> bool:
        """R2.3/R3.1: a void issue leaves every count."""
        return self.state is not IssueState.VOID

    @property
    def is_rectified(self) -> bool:
        """R3.2: rectified means the state at T is `rectified` or `verified`."""
        return self.state in (IssueState.RECTIFIED, IssueState.VERIFIED)


def issue_as_of(facts: Iterable[IssueFact], at: datetime) -> IssueSnapshot | None:
    """R2.3-R2.6, R3: one issue's state at ``at`` (facts of a single issue, any order, repeats ok).

    - The issue exists only once its ``reported_at <= at`` (R3: an issue counts from its
      ``reported_at``, which an imported record may set before the event's ``occurred_at``).
    - Every other fact applies from its ``occurred_at <= at``, folded in
      ``(occurred_at, aggregate_version)`` order after the report.
    - ``reopened`` adds 1 to ``rework_count`` (R2.3); ``void`` is final, later facts change
      nothing.
    - ``transferred`` moves the issue to the new unit from then on (R2.6); ``extended`` replaces
      the deadline from then on (R2.6); a reopened issue keeps the deadline it has (R2.3).
    - ``on_time`` (R3.5): first rectified at or before the deadline in force at that moment; a
      later reopening does not undo it.
    - ``overdue`` (R2.4): ``open``/``reopened`` and ``at`` strictly after the deadline in force
      at ``at``. The published ``overdue`` events are notices and are not needed for this.
    """
    require_aware(at, "at")
    return _as_of(_unique(facts), at)


def _unique(facts: Iterable[IssueFact]) -> list[IssueFact]:
    return dedupe(facts, lambda f: (f.issue_id, f.aggregate_version), "issue")


def _as_of(unique: list[IssueFact], at: datetime) -> IssueSnapshot | None:
    """`issue_as_of` of facts already free of repeats."""
    reports = [f for f in unique if f.kind is IssueKind.REPORTED]
    if not reports:
        return None
    if len(reports) > 1:
        raise ValueError(f"issue {reports[0].issue_id} is reported more than once")
    report = reports[0]
    unit_id, reported_at, deadline = report.unit_id, report.reported_at, report.deadline
    if unit_id is None or reported_at is None or deadline is None:  # IssueFact forbids this
        raise ValueError(f"reported fact of issue {report.issue_id} is incomplete")
    if reported_at > at:
        return None
    state, rework, first_rectified_at, on_time = IssueState.OPEN, 0, None, False
    later = sorted(
        (f for f in unique if f is not report and f.occurred_at <= at),
        key=lambda f: (f.occurred_at, f.aggregate_version),
    )
    for fact in later:
        if state is IssueState.VOID:
            break  # R2.3: void is final.
        if fact.kind is IssueKind.TRANSFERRED and fact.unit_id is not None:
            unit_id = fact.unit_id
        elif fact.kind is IssueKind.EXTENDED and fact.deadline is not None:
            deadline = fact.deadline
        elif fact.kind in _STATE_AFTER:
            state = _STATE_AFTER[fact.kind]
            if fact.kind is IssueKind.REOPENED:
                rework += 1
            if fact.kind is IssueKind.RECTIFIED and first_rectified_at is None:
                first_rectified_at = fact.occurred_at
                on_time = fact.occurred_at <= deadline
    overdue = state in (IssueState.OPEN, IssueState.REOPENED) and at > deadline
    return IssueSnapshot(
        issue_id=report.issue_id,
        unit_id=unit_id,
        reported_at=reported_at,
        deadline=deadline,
        state=state,
        rework_count=rework,
        first_rectified_at=first_rectified_at,
        on_time=on_time,
        overdue=overdue,
    )


def issues_as_of(facts: Iterable[IssueFact], at: datetime) -> dict[str, IssueSnapshot]:
    """Every issue's snapshot at ``at`` (see `issue_as_of`); issues not yet reported are absent."""
    by_issue: dict[str, list[IssueFact]] = {}
    for fact in facts:
        by_issue.setdefault(fact.issue_id, []).append(fact)
    snapshots: dict[str, IssueSnapshot] = {}
    for issue_id in sorted(by_issue):
        snapshot = issue_as_of(by_issue[issue_id], at)
        if snapshot is not None:
            snapshots[issue_id] = snapshot
    return snapshots


@dataclass(frozen=True, kw_only=True)
class IssueSummary:
    """An issue after every fact known so far, and when it last changed (R3 counts each change
    from its ``occurred_at``, the issue itself from its ``reported_at``).

    For any cutoff T with ``T >= changed_until`` (or no change at all) and ``T >= reported_at``,
    the issue's snapshot at T is ``final`` with one exception: ``overdue`` depends on T itself
    (R2.4: ``open``/``reopened`` and T after ``final.deadline``). That is what lets the ranking
    service count a million issues per edition from stored summaries and fold again only the
    issues that changed after the cutoff.
    """

    final: IssueSnapshot
    changed_until: datetime | None

    def at(self, cutoff: datetime) -> IssueSnapshot | None:
        """The snapshot at ``cutoff`` if the summary decides it, else None (fold the facts).

        Also None when the issue is not reported yet at ``cutoff`` (R3.1)."""
        require_aware(cutoff, "cutoff")
        if self.final.reported_at > cutoff:
            return None
        if self.changed_until is not None and self.changed_until > cutoff:
            return None
        overdue = (
            self.final.state in (IssueState.OPEN, IssueState.REOPENED)
            and cutoff > self.final.deadline
        )
        return IssueSnapshot(
            issue_id=self.final.issue_id,
            unit_id=self.final.unit_id,
            reported_at=self.final.reported_at,
            deadline=self.final.deadline,
            state=self.final.state,
            rework_count=self.final.rework_count,
            first_rectified_at=self.final.first_rectified_at,
            on_time=self.final.on_time,
            overdue=overdue,
        )


def issue_summary(facts: Iterable[IssueFact]) -> IssueSummary | None:
    """The `IssueSummary` of one issue's facts (any order, repeats ok); None until its report.

    Raises ValueError like `issue_as_of` for facts that do not fold (two reports, conflicting
    facts under one version)."""
    unique = _unique(facts)
    changes = [f.occurred_at for f in unique if f.kind is not IssueKind.REPORTED]
    changed_until = max(changes, default=None)
    reports = [f.reported_at for f in unique if f.kind is IssueKind.REPORTED and f.reported_at]
    if not reports:
        return None
    latest = max([*reports, *changes])
    final = _as_of(unique, latest)
    if final is None:  # pragma: no cover - a report at or before ``latest`` always folds
        return None
    return IssueSummary(final=final, changed_until=changed_until)
