"""The JSON body of each notice (R5.2, R5.3): Chinese title and text plus the key numbers.

v1 uses f-strings; Jinja2 templates replace them later without changing the body's shape.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from .domain.escalation import TalkLevel
from .domain.notices import NoticeType, PlannedNotice

CATEGORY = {"department": "市直部门", "district": "区", "town": "镇（街道）"}
TALK = {
    TalkLevel.CITY_LEADER: "市领导约谈",
    TalkLevel.ORGANISATION_DEPARTMENT: "组织部门约谈",
    TalkLevel.ACCOUNTABILITY: "问责",
}
KIND = {NoticeType.COMMENDATION: "通报表扬", NoticeType.CRITICISM: "通报批评"}


def _texts(notice: PlannedNotice, name: str, numbers: dict[str, str]) -> tuple[str, str]:
    """(title, text) of one notice."""
    period = f"{notice.edition.year}年第{notice.edition.number}期"
    if notice.revision > 1:
        period += f"（第{notice.revision}版）"
    place = (
        f"在{CATEGORY.get(numbers.get('category', ''), '')}中排名第{numbers['rank']}位"
        if "rank" in numbers
        else ""
    )
    rate = f"整改率{numbers['rate_display']}%" if "rate_display" in numbers else "本期无交办问题"
    streak = numbers.get("consecutive_black", "")
    level = TALK[notice.talk_level] if notice.talk_level is not None else ""
    match notice.type:
        case NoticeType.RATE_REPORT:
            return f"{period}整改率通报", f"{name}：{period}{rate}，{place}。"
        case NoticeType.COMMENDATION:
            return (
                f"{period}红榜通报表扬",
                f"{name}：{period}{rate}，{place}，列入红榜，予以通报表扬。",
            )
        case NoticeType.CRITICISM:
            return (
                f"{period}黑榜通报批评",
                f"{name}：{period}{rate}，{place}，列入黑榜（连续第{streak}期），予以通报批评。",
            )
        case NoticeType.TALK:
            return f"{period}{level}通知", f"{name}：连续{streak}期列入黑榜，依规{level}。"
        case NoticeType.CORRECTION:
            withdrawn = KIND.get(notice.withdraws, "通报") if notice.withdraws else "通报"
            cancel = f"，{level}同时取消" if level else ""
            return (
                f"{period}更正通知",
                f"{name}：撤回{period}第{notice.withdrawn_revision}版对你单位的{withdrawn}{cancel}。",
            )
    return f"{period}通知", f"{name}：{period}通知。"


def notice_body(notice: PlannedNotice, delivery_id: UUID, name: str | None) -> dict[str, Any]:
    """The JSON sent to the receiver; stored at planning time so every retry sends the same."""
    numbers = dict(notice.key_numbers)
    unit_id = notice.recipient.unit_id
    title, text = _texts(notice, name or unit_id or str(notice.recipient), numbers)
    return {
        "notification_id": str(delivery_id),
        "notice_type": str(notice.type),
        "recipient": str(notice.recipient),
        "unit_id": unit_id,
        "edition": {
            "year": notice.edition.year,
            "number": notice.edition.number,
            "revision": notice.revision,
        },
        "title": title,
        "text": text,
        "key_numbers": numbers,
        "talk_level": None if notice.talk_level is None else str(notice.talk_level),
        "withdraws": None if notice.withdraws is None else str(notice.withdraws),
        "withdrawn_revision": notice.withdrawn_revision,
    }
