"""A realistic, seeded campaign for Jiangmen's units (pure: no I/O, no clock).

The plan is made in *campaign days* (day 0 = the campaign's first Monday 00:00 Asia/Shanghai)
and laid on the report's real calendar by `Clock`: by default 1 January 2018 (a Monday), 17
weeks, so the weekly cutoffs are the Mondays 8 January … 30 April 2018. The units are
registered as of day 0 (R1.3: every cutoff after it ranks them), the issues and the monthly
scores carry their historical times (R2.1, R4.2), and every time is in the past, so each
edition can be published for its real cutoff.

Shape (the report's figures, R3.4: 3,107 of 3,440 rectified): about 30% of issues for the 7
districts, 45% for the 20 towns and 25% for the 40 departments; each unit has a diligence that
sets how fast it fixes and how often its fixes fail re-inspection (30% drawn, R2.5); ~1% void.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from cli.instants import TZ

CAMPAIGN_START = date(2018, 1, 1)  # the Monday the report's four months begin
TIME_LIMIT_DAYS = 3.0  # R2.2 default time limit
CATEGORY_SHARE = {"district": 0.30, "town": 0.45, "department": 0.25}
PROBLEMS = [
    ("暴露垃圾", "小区门口垃圾未及时清理"),
    ("占道经营", "商户占用人行道经营"),
    ("乱摆卖", "流动摊贩沿街摆卖"),
    ("乱张贴", "墙面电线杆小广告未清除"),
    ("乱停放", "非机动车乱停乱放阻塞通道"),
    ("公益广告缺失", "围挡公益广告缺失或破损"),
    ("积存垃圾", "背街小巷积存建筑垃圾"),
    ("污水横流", "市场周边污水外溢"),
    ("绿化破损", "绿化带缺株、黄土裸露"),
    ("设施破损", "人行道砖松动、井盖破损"),
]
POINT_TYPES = ["community", "road", "farmers_market", "school", "village", "park", "station"]
TEAMS = ["第一督查组", "第二督查组", "第三督查组", "第四督查组", "第五督查组"]
INSPECTORS = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨帆", "黄敏", "赵磊", "吴婷", "周强"]


@dataclass(frozen=True)
class Clock:
    """Campaign days → real instants: ``start`` (Monday 00:00 Asia/Shanghai) is day 0."""

    start: datetime

    @classmethod
    def monday(cls, day: date) -> Clock:
        """The campaign beginning on Monday ``day`` at 00:00 Asia/Shanghai (R4.1 cutoffs)."""
        if day.weekday() != 0:
            raise ValueError(f"{day.isoformat()} is a {day:%A}, not a Monday")
        return cls(datetime.combine(day, time(0), tzinfo=TZ))

    def at(self, day: float) -> datetime:
        return self.start + timedelta(days=day)

    def iso(self, day: float) -> str:
        return self.at(day).isoformat()

    def day_of(self, instant: datetime) -> float:
        return (instant - self.start) / timedelta(days=1)


@dataclass
class Campaign:
    """What the demo loads: the units' registration time, backfill records, score rows, and
    the weekly cutoffs."""

    starts_at: datetime
    ends_at: datetime
    issues: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, str]] = field(default_factory=list)
    cutoffs: list[datetime] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for i in self.issues if final_state(i) == state)


def final_state(record: dict[str, Any]) -> str:
    """The state the transitions leave the issue in (R2.3)."""
    state = "open"
    for t in record["transitions"]:
        state = {
            "rectified": "rectified",
            "pass": "verified",
            "fail": "reopened",
            "void": "void",
        }.get(t["kind"], state)
    return state


def diligence(rng: random.Random, units: list[dict[str, str]]) -> dict[str, float]:
    """Each unit's diligence in [0.55, 0.99]; a few laggards make a black list worth reading."""
    found = {u["unit_id"]: rng.uniform(0.82, 0.99) for u in units}
    for unit in rng.sample(units, k=max(1, len(units) // 12)):
        found[unit["unit_id"]] = rng.uniform(0.55, 0.75)
    return found


def _owners(rng: random.Random, units: list[dict[str, str]], total: int) -> list[dict[str, str]]:
    by_category: dict[str, list[dict[str, str]]] = {}
    for unit in units:
        by_category.setdefault(unit["category"], []).append(unit)
    owners: list[dict[str, str]] = []
    for category, members in sorted(by_category.items()):
        share = CATEGORY_SHARE.get(category, 0.1) / sum(
            CATEGORY_SHARE.get(c, 0.1) for c in by_category
        )
        weights = [rng.uniform(0.6, 1.4) for _ in members]
        owners += rng.choices(members, weights=weights, k=round(total * share))
    rng.shuffle(owners)
    return owners[:total]


def plan(
    units: list[dict[str, str]],
    clock: Clock,
    *,
    issues: int = 3440,
    weeks: int = 17,
    seed: int = 2018,
) -> Campaign:
    """The whole campaign: ``issues`` backfill records over ``weeks`` weeks, a score per unit
    for each calendar month the campaign touches (recorded at that month's end, or at the
    campaign's if sooner), and ``weeks`` Monday cutoffs."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible demo, not a secret
    end = weeks * 7.0
    skill = diligence(rng, units)
    names = {u["unit_id"]: u for u in units}
    cutoffs = [clock.at(7.0 * k) for k in range(1, weeks + 1)]
    campaign = Campaign(clock.start, clock.at(end), cutoffs=cutoffs)
    for n, owner in enumerate(_owners(rng, units, issues)):
        found = rng.uniform(0, end - 0.25)
        campaign.issues.append(
            _issue(rng, n, owner, names, skill[owner["unit_id"]], found, end, clock)
        )
    campaign.issues.sort(key=lambda r: r["reported_at"])
    campaign.scores = _scores(rng, units, skill, end, clock)
    return campaign


def _address(owner: dict[str, str], names: dict[str, dict[str, str]], rng: random.Random) -> str:
    if owner["category"] == "town":
        parent = names.get(owner.get("parent_id") or "", {}).get("name", "")
        return f"江门市{parent}{owner['name']}{rng.randint(1, 300)}号附近"
    if owner["category"] == "district":
        return f"江门市{owner['name']}{rng.choice(['建设路', '港口路', '东湖路', '迎宾大道'])}"
    return f"江门市{rng.choice(['蓬江区', '江海区', '新会区'])}{owner['name']}责任路段"


def _issue(
    rng: random.Random,
    n: int,
    owner: dict[str, str],
    names: dict[str, dict[str, str]],
    q: float,
    found: float,
    end: float,
    clock: Clock,
) -> dict[str, Any]:
    category, description = rng.choice(PROBLEMS)
    reported = found + rng.uniform(0.02, 0.25)
    steps: list[tuple[float, dict[str, Any]]] = []
    photo = f"https://photos.example/jiangmen/{n:05d}"
    if rng.random() < 0.01:
        steps.append((reported + rng.uniform(0.2, 1.0), {"kind": "void", "reason": "重复上报"}))
    else:
        at, attempt = reported, 0
        while True:
            at += rng.expovariate(1 / (0.6 + (1 - q) * 14))  # mean days to fix
            if at >= end or rng.random() < 0.02 + (1 - q) * 0.45:
                break
            attempt += 1
            steps.append((at, {"kind": "rectified", "evidence": [f"{photo}-{attempt}.jpg"]}))
            if rng.random() >= 0.3:  # R2.5: 30% of fixes are drawn for re-inspection
                break
            at += rng.uniform(0.6, 1.5)
            if at >= end:
                break
            passed = rng.random() > (1 - q) * 1.6
            steps.append((at, {"kind": "pass" if passed else "fail", "note": _note(passed)}))
            if passed:
                break
    return {
        "unit_id": owner["unit_id"],
        "category": category,
        "point_type": rng.choice(POINT_TYPES),
        "description": description,
        "location": {"address": _address(owner, names, rng)},
        "photos": [f"{photo}-0.jpg"],
        "found_at": clock.iso(found),
        "reported_at": clock.iso(reported),
        "deadline": clock.iso(found + TIME_LIMIT_DAYS),
        "inspector": rng.choice(INSPECTORS),
        "team": rng.choice(TEAMS),
        "ledger_number": f"台账-{n + 1:05d}",  # the office's own ledger: a re-import skips it
        "transitions": [{**step, "at": clock.iso(at)} for at, step in steps],
    }


def _note(passed: bool) -> str:
    return "回头看：整改到位" if passed else "回头看：问题反弹，整改不到位"


def _scores(
    rng: random.Random,
    units: list[dict[str, str]],
    skill: dict[str, float],
    end: float,
    clock: Clock,
) -> list[dict[str, str]]:
    """实地考评 (R4.2): one score per unit and month, recorded on the month's last Friday at
    17:00, or shortly before the campaign ends if that comes first."""
    rows = []
    for month in campaign_months(clock, end):
        recorded = min(end - 0.1, clock.day_of(assessed_at(month)))
        for unit in units:
            score = 62 + 36 * skill[unit["unit_id"]] + rng.gauss(0, 3)
            rows.append(
                {
                    "unit_id": unit["unit_id"],
                    "month": month,
                    "score": f"{max(0.0, min(100.0, score)):.1f}",
                    "source": "实地考评",
                    "recorded_at": clock.iso(recorded),
                }
            )
    return rows


def campaign_months(clock: Clock, end: float) -> list[str]:
    """The calendar months (``2018-01``) of campaign days [0, ``end``), oldest first."""
    first, last = clock.at(0).date(), clock.at(end - 1e-6).date()
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def assessed_at(month: str) -> datetime:
    """The month's last Friday, 17:00 Asia/Shanghai: when its 实地考评 is recorded."""
    year, number = (int(p) for p in month.split("-"))
    after = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    last = after - timedelta(days=1)
    friday = last - timedelta(days=(last.weekday() - 4) % 7)
    return datetime.combine(friday, time(17), tzinfo=TZ)
