"""A reproducible stream of unit and issue lifecycle events, as the issues service would publish
them, together with the domain facts each event states.

The facts are built here from what the generator decided, not decoded back from the wire or
read from any service, so the expected rates and editions are computed independently: the pure
ranking domain (``rate_report``, ``compute_edition``) folded over exactly the events sent.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.envelope import Event
from services.ranking.domain.edition import compute_edition
from services.ranking.domain.issues import IssueFact, IssueKind
from services.ranking.domain.payload import content_payload
from services.ranking.domain.rate_report import rate_report
from services.ranking.domain.units import UnitEventKind, UnitFact
from services.ranking.rule_book import DEFAULT_RULES_FILE, load_rule_book

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 3, 4, 9, 0, tzinfo=TZ)
# After every generated fact: the rates and the edition at CUTOFF see all of them.
CUTOFF = datetime(2024, 6, 3, 0, 0, tzinfo=TZ)
DAY = timedelta(days=1)


@dataclass
class World:
    prefix: str
    rng: random.Random
    events: list[Event] = field(default_factory=list)
    unit_facts: list[UnitFact] = field(default_factory=list)
    issue_facts: list[IssueFact] = field(default_factory=list)
    units: dict[str, list[str]] = field(default_factory=dict)  # category -> unit ids
    issues: int = 0
    reported: list[uuid.UUID] = field(default_factory=list)  # issue ids, in order

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # -- expected outcomes (pure domain) ------------------------------------------------------
    def expected_rates(self, at: datetime = CUTOFF) -> dict[str, Any]:
        return rate_report(at, self.unit_facts, self.issue_facts)

    def expected_edition(self, cutoff: datetime = CUTOFF) -> dict[str, Any]:
        rules = load_rule_book(DEFAULT_RULES_FILE).current
        content = compute_edition(
            cutoff=cutoff,
            rules=rules,
            tz=TZ,
            unit_facts=self.unit_facts,
            issue_facts=self.issue_facts,
            scores=[],
        )
        return content_payload(content)

    # -- generation ---------------------------------------------------------------------------
    def register_units(self) -> None:
        plan = {"department": 12, "district": 4, "town": 6}
        for category, count in plan.items():
            for i in range(count):
                unit_id = f"{self.prefix}-{category[:4]}-{i:02d}"
                parent = f"{self.prefix}-dist-{i % 4:02d}" if category == "town" else None
                at = START - 10 * DAY
                self.events.append(
                    uw.UnitRegistered(
                        event_id=self.new_id(),
                        occurred_at=at,
                        producer="issues",
                        aggregate_id=unit_id,
                        aggregate_version=1,
                        unit_id=unit_id,
                        name=f"单位 {unit_id}",
                        category=category,
                        parent_id=parent,
                    )
                )
                self.unit_facts.append(
                    UnitFact(
                        unit_id=unit_id,
                        kind=UnitEventKind.REGISTERED,
                        occurred_at=at,
                        aggregate_version=1,
                        name=f"单位 {unit_id}",
                        category=category,  # type: ignore[arg-type]
                        parent_id=parent,
                        active=True,
                    )
                )
                self.units.setdefault(category, []).append(unit_id)

    def add_issue(self) -> None:
        """One issue's whole life: reported, then perhaps transferred, extended, rectified,
        verified or reopened and rectified again, or voided."""
        rng = self.rng
        self.issues += 1
        issue_id = self.new_id()
        self.reported.append(issue_id)
        category = rng.choice(list(self.units))
        unit = rng.choice(self.units[category])
        reported_at = START + timedelta(minutes=rng.randrange(60 * 24 * 60))
        deadline = reported_at + 7 * DAY
        version = 0
        at = reported_at

        def emit(event_type: Callable[..., Event], kind: IssueKind, **fields: Any) -> None:
            nonlocal version
            version += 1
            self.events.append(
                event_type(
                    event_id=self.new_id(),
                    occurred_at=at,
                    producer="issues",
                    aggregate_id=str(issue_id),
                    aggregate_version=version,
                    issue_id=issue_id,
                    unit_id=fields.pop("unit_id", unit),
                    **fields,
                )
            )
            self.issue_facts.append(
                IssueFact(
                    issue_id=str(issue_id),
                    kind=kind,
                    occurred_at=at,
                    aggregate_version=version,
                    unit_id=unit if kind in (IssueKind.REPORTED, IssueKind.TRANSFERRED) else None,
                    reported_at=reported_at if kind is IssueKind.REPORTED else None,
                    deadline=deadline if kind in (IssueKind.REPORTED, IssueKind.EXTENDED) else None,
                )
            )

        emit(
            iw.IssueReported,
            IssueKind.REPORTED,
            number=f"CH-2024-{self.issues:06d}",
            category="暴露垃圾",
            point_type="community",
            description="小区门口垃圾未清理",
            location=iw.Location(address="江门市蓬江区"),
            found_at=reported_at - timedelta(hours=1),
            reported_at=reported_at,
            deadline=deadline,
            inspector="张三",
            team="第一督查组",
        )
        roll = rng.random()
        if roll < 0.05:
            at += DAY
            emit(iw.IssueVoided, IssueKind.VOIDED, reason="重复")
            return
        if roll < 0.10 and len(self.units[category]) > 1:
            at += DAY / 2
            old = unit
            unit = rng.choice([u for u in self.units[category] if u != old])
            emit(
                iw.IssueTransferred,
                IssueKind.TRANSFERRED,
                unit_id=unit,
                from_unit_id=old,
                reason="转办",
            )
        if rng.random() < 0.08:
            at += DAY
            self.events.append(  # a request changes no number: no fact for ranking
                iw.ExtensionRequested(
                    event_id=self.new_id(),
                    occurred_at=at,
                    producer="issues",
                    aggregate_id=str(issue_id),
                    aggregate_version=version + 1,
                    issue_id=issue_id,
                    unit_id=unit,
                    requested_deadline=deadline + 7 * DAY,
                    reason="施工需要",
                )
            )
            version += 1
            at += DAY / 2
            previous, deadline = deadline, deadline + 7 * DAY
            emit(
                iw.DeadlineExtended,
                IssueKind.EXTENDED,
                previous_deadline=previous,
                deadline=deadline,
            )
        if rng.random() < 0.75:
            at += timedelta(hours=rng.randrange(12, 12 * 24))
            emit(iw.IssueRectified, IssueKind.RECTIFIED, evidence=["https://p.example/1.jpg"])
            roll = rng.random()
            if roll < 0.5:
                at += DAY
                emit(iw.IssueVerified, IssueKind.VERIFIED, inspector="李四")
            elif roll < 0.75:
                at += DAY
                emit(iw.IssueReopened, IssueKind.REOPENED, inspector="李四", rework_count=1)
                if rng.random() < 0.6:
                    at += 2 * DAY
                    emit(
                        iw.IssueRectified, IssueKind.RECTIFIED, evidence=["https://p.example/2.jpg"]
                    )


def build_world(prefix: str, events: int, seed: int = 7) -> World:
    """Units, then issues until about ``events`` events (each issue's events in order)."""
    world = World(prefix, random.Random(seed))
    world.register_units()
    while len(world.events) < events:
        world.add_issue()
    return world
