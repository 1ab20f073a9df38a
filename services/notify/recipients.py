"""Recipients and their channels (R5): units and offices, managed by the office over HTTP and
by CSV import. Secrets are ``SecretStr`` from input to database and never come back out."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from psycopg.types.json import Jsonb
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from services.contracts.base import ShortText, Url
from services.runtime.db import Conn

from .channels import REDACTED, redact_url
from .domain.webhook_signature import secret_bytes

RECIPIENT = (
    r"^(unit:[a-z0-9][a-z0-9-]{0,62}[a-z0-9]|office:(campaign_office|finance_office|leaders))$"
)
RecipientKey = Annotated[str, StringConstraints(pattern=RECIPIENT)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
CSV_COLUMNS = (
    "recipient",
    "name",
    "contact_name",
    "contact_phone",
    "channel",
    "kind",
    "url",
    "secret",
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Input):
    name: ShortText
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{5,20}$")] | None = None


class ChannelIn(_Input):
    """A webhook needs its ``whsec_`` key; a DingTalk robot with 加签 its ``SEC...`` secret;
    a WeCom robot's key is in its URL."""

    name: Slug
    kind: Literal["webhook", "wecom", "dingtalk"]
    url: Url
    secret: SecretStr | None = None

    @model_validator(mode="after")
    def _secret_fits_kind(self) -> Self:
        if self.kind == "webhook":
            try:
                secret_bytes("" if self.secret is None else self.secret.get_secret_value())
            except ValueError:
                raise ValueError(
                    "a webhook channel needs a secret of the form whsec_<base64>"
                ) from None
        return self


class RecipientIn(_Input):
    name: ShortText
    contacts: Annotated[list[Contact], Field(max_length=20)] = []
    channels: Annotated[list[ChannelIn], Field(max_length=10)] = []

    @model_validator(mode="after")
    def _unique_channel_names(self) -> Self:
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("channel names must be unique per recipient")
        return self


class CsvError(ValueError):
    """A CSV import with invalid lines; ``errors`` name them (nothing is imported)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid line(s)")
        self.errors = errors


def parse_csv(text: str, max_rows: int = 10_000) -> dict[str, RecipientIn]:
    """One recipient per distinct ``recipient`` column; a line adds a contact and/or a
    channel. Every line is checked before anything is returned."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise CsvError([{"line": 1, "message": f"the header must be {','.join(CSV_COLUMNS)}"}])
    grouped: dict[str, dict[str, Any]] = {}
    errors: list[dict[str, Any]] = []
    for line, row in enumerate(reader, start=2):
        if line > max_rows + 1:
            raise CsvError([{"line": line, "message": f"at most {max_rows} lines"}])
        key = (row["recipient"] or "").strip()
        entry = grouped.setdefault(
            key, {"name": row["name"], "contacts": [], "channels": [], "lines": []}
        )
        entry["lines"].append(line)
        if row["contact_name"]:
            entry["contacts"].append(
                {"name": row["contact_name"], "phone": row["contact_phone"] or None}
            )
        if row["channel"]:
            channel = {"name": row["channel"], "kind": row["kind"], "url": row["url"]}
            entry["channels"].append(channel | ({"secret": row["secret"]} if row["secret"] else {}))
    parsed: dict[str, RecipientIn] = {}
    for key, entry in grouped.items():
        lines = entry.pop("lines")
        try:
            _KEY.validate_python(key)
            parsed[key] = RecipientIn.model_validate(entry)
        except PydanticValidationError as exc:
            errors += [
                {
                    "lines": lines,
                    "recipient": key,
                    "field": ".".join(map(str, e["loc"])),
                    "message": e["msg"],
                }
                for e in exc.errors(include_input=False)
            ]
    if errors:
        raise CsvError(errors)
    return parsed


_KEY: TypeAdapter[str] = TypeAdapter(RecipientKey)


async def save(conn: Conn, key: str, recipient: RecipientIn, at: datetime) -> None:
    """Create or replace a recipient with its contacts and channels."""
    await conn.execute(
        "INSERT INTO recipients (recipient, name, contacts, updated_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (recipient) DO UPDATE SET name = EXCLUDED.name,"
        " contacts = EXCLUDED.contacts, updated_at = EXCLUDED.updated_at",
        (key, recipient.name, Jsonb([c.model_dump() for c in recipient.contacts]), at),
    )
    await conn.execute("DELETE FROM channels WHERE recipient = %s", (key,))
    for c in recipient.channels:
        secret = None if c.secret is None else c.secret.get_secret_value()
        await conn.execute(
            "INSERT INTO channels (channel, recipient, name, kind, url, secret, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (f"{key}/{c.name}", key, c.name, c.kind, c.url, secret, at),
        )


async def channels_of(conn: Conn, recipients: list[str]) -> dict[str, list[str]]:
    """The channel names of each recipient (the default webhook is not among them)."""
    cur = await conn.execute(
        "SELECT recipient, channel FROM channels WHERE recipient = ANY(%s) ORDER BY channel",
        (recipients,),
    )
    out: dict[str, list[str]] = {}
    for row in await cur.fetchall():
        out.setdefault(row["recipient"], []).append(row["channel"])
    return out


async def names_of(conn: Conn, recipients: list[str]) -> dict[str, str]:
    cur = await conn.execute(
        "SELECT recipient, name FROM recipients WHERE recipient = ANY(%s)", (recipients,)
    )
    return {row["recipient"]: row["name"] for row in await cur.fetchall()}


async def list_all(conn: Conn, limit: int = 1000) -> list[dict[str, Any]]:
    """Recipients with their channels; URLs with masked query values, secrets as the marker."""
    cur = await conn.execute(
        "SELECT r.recipient, r.name, r.contacts, r.updated_at, coalesce(json_agg(json_build_object("
        "'name', c.name, 'kind', c.kind, 'url', c.url, 'has_secret', c.secret IS NOT NULL))"
        " FILTER (WHERE c.channel IS NOT NULL), '[]') AS channels FROM recipients r"
        " LEFT JOIN channels c ON c.recipient = r.recipient GROUP BY r.recipient"
        " ORDER BY r.recipient LIMIT %s",
        (limit,),
    )
    rows = list(await cur.fetchall())
    for row in rows:
        for c in row["channels"]:
            c["url"] = redact_url(c["url"])
            c["secret"] = REDACTED if c.pop("has_secret") else None
    return rows
