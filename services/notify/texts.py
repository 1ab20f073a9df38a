"""The JSON body of each notice (R5): a Chinese title and markdown text rendered from one
Jinja2 template per notice type (``templates/<type>.md.j2``), plus the key numbers.

A template sets ``title`` at its top and renders the text; both get the recipient's ``name``,
the key numbers as ``n`` and, for edition notices, the ``period`` (2018年第5期).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .domain.escalation import TalkLevel
from .domain.notices import NoticeType, OfficeRole, PlannedNotice

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORY = {"department": "市直部门", "district": "区", "town": "镇（街道）"}
TALK = {
    TalkLevel.CITY_LEADER: "市领导约谈",
    TalkLevel.ORGANISATION_DEPARTMENT: "组织部门约谈",
    TalkLevel.ACCOUNTABILITY: "问责",
}
KIND = {NoticeType.COMMENDATION: "通报表扬", NoticeType.CRITICISM: "通报批评"}
OFFICE = {
    OfficeRole.CAMPAIGN_OFFICE: "市创文办",
    OfficeRole.FINANCE_OFFICE: "市财政局",
    OfficeRole.LEADERS: "市领导",
}


def local_time(value: str) -> str:
    """An RFC 3339 instant as Beijing time, the way notices write it (2018年5月5日 09:00)."""
    at = datetime.fromisoformat(value).astimezone(SHANGHAI)
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"


# Markdown, not HTML: nothing to escape, and a missing variable is an error, not a blank.
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # noqa: S701 - markdown for robots and JSON, never rendered as HTML here
    keep_trailing_newline=False,
)
_ENV.filters["local_time"] = local_time


def render(notice: PlannedNotice, name: str) -> tuple[str, str]:
    """(title, text) of one notice, from its type's template."""
    numbers = dict(notice.key_numbers)
    edition = period = ""
    if notice.edition is not None:
        edition = period = f"{notice.edition.year}年第{notice.edition.number}期"
        if notice.revision > 1:
            period += f"（第{notice.revision}版）"
    context: dict[str, Any] = {
        "name": name,
        "n": numbers,
        "period": period,
        "edition": edition,
        "category": CATEGORY.get(numbers.get("category", ""), ""),
        "talk": TALK[notice.talk_level] if notice.talk_level is not None else "",
        "withdrawn": KIND.get(notice.withdraws, "通报") if notice.withdraws else "通报",
        "withdrawn_revision": notice.withdrawn_revision,
        "items": notice.items,
        "office": notice.recipient.role is not None,
    }
    template = _ENV.get_template(f"{notice.type}.md.j2")
    module = template.make_module(context)
    return str(getattr(module, "title")), str(module).strip()  # noqa: B009 - set by the template


def notice_body(notice: PlannedNotice, delivery_id: UUID, name: str | None) -> dict[str, Any]:
    """The JSON sent to the receiver; stored at planning time so every retry sends the same."""
    unit_id = notice.recipient.unit_id
    role = notice.recipient.role
    title, text = render(notice, name or unit_id or (OFFICE[role] if role else ""))
    edition = None
    if notice.edition is not None:
        edition = {
            "year": notice.edition.year,
            "number": notice.edition.number,
            "revision": notice.revision,
        }
    return {
        "notification_id": str(delivery_id),
        "notice_type": str(notice.type),
        "recipient": str(notice.recipient),
        "unit_id": unit_id,
        "edition": edition,
        "about": notice.about,
        "title": title,
        "text": text,
        "key_numbers": dict(notice.key_numbers),
        "items": [list(item) for item in notice.items],
        "talk_level": None if notice.talk_level is None else str(notice.talk_level),
        "withdraws": None if notice.withdraws is None else str(notice.withdraws),
        "withdrawn_revision": notice.withdrawn_revision,
    }
