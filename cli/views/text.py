"""Small shared helpers: instants in Asia/Shanghai, Chinese labels, one-line error texts."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console, RenderableType

from cli.config import TIMEZONE

CATEGORIES = {"district": "区（县级市）", "town": "镇（街道）", "department": "市直部门"}
CATEGORY_ORDER = ("district", "town", "department")
STATES = {
    "open": "待整改",
    "rectified": "已整改",
    "verified": "已复查",
    "reopened": "返工",
    "void": "已作废",
}
MAX_MESSAGE = 400


def local_time(instant: str | None, seconds: bool = False) -> str:
    """An RFC 3339 instant shown in Asia/Shanghai (``2018-05-07 00:00``); '—' for none."""
    if not instant:
        return "—"
    try:
        at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    except ValueError:
        return instant
    if at.tzinfo is None:
        return instant
    return at.astimezone(ZoneInfo(TIMEZONE)).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def percent(value: dict[str, Any] | None) -> str:
    """An exact value's display string as a percentage, '—' when undefined."""
    if not value or value.get("display") is None:
        return "—"
    return f"{value['display']}%"


def _loc(loc: Any) -> str:
    parts = [str(p) for p in loc or [] if p not in ("body", "query", "path")]
    return ".".join(parts)


def detail_text(detail: Any) -> str:
    """FastAPI's ``detail``: a string, or a list of ``{loc, msg}`` → ``field: message; ...``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        items = []
        for item in detail:
            if isinstance(item, dict):
                where = _loc(item.get("loc"))
                msg = str(item.get("msg", item))
                items.append(f"{where}: {msg}" if where else msg)
            else:
                items.append(str(item))
        return "; ".join(items)
    return str(detail)


def http_error_message(service: str, status: int, body: Any) -> str:
    """One readable line for a 4xx/5xx answer, whatever its body looks like."""
    if isinstance(body, dict) and "detail" in body:
        text = detail_text(body["detail"])
        if "current_state" in body:
            text += f" (current state: {body['current_state']})"
    elif isinstance(body, (dict, list)):
        text = detail_text(body)
    else:
        text = " ".join(str(body or "").split()) or "(empty body)"
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return f"{service} answered HTTP {status}: {text}"


def render_text(renderable: RenderableType, width: int = 160) -> str:
    """What ``renderable`` prints, as plain text (for tests and logs)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()
