"""Generate (``write``) or verify (``check``) the committed interface documents.

- ``docs/asyncapi/<service>.json``: the AsyncAPI 3.0 document of each service's broker, built
  from its declared publishers and subscribers (so an undeclared subject is missing from it).
- ``docs/schemas/<subject>.json``: one JSON Schema per event, for subscribers in other stacks.

Usage: ``python -m tools.asyncapi write|check`` (``make docs`` / ``make docs-check``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from services.contracts.registry import EVENTS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def builders() -> dict[str, Callable[[], Any]]:
    from services.incentives.app import build as incentives
    from services.issues.app import build as issues
    from services.notify.app import build as notify
    from services.ranking.app import build as ranking

    return {"issues": issues, "ranking": ranking, "notify": notify, "incentives": incentives}


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _one_event_per_message(document: dict[str, Any]) -> None:
    """A batch subscriber (ranking's input streams) takes a list of messages, which FastStream
    documents as an array payload; on the wire each message is still one event, so the
    document shows the event (what another system publishes there)."""
    schemas = document.get("components", {}).get("schemas", {})
    for message in document.get("components", {}).get("messages", {}).values():
        ref = message.get("payload", {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        schema = schemas.get(name, {})
        if schema.get("type") == "array" and "items" in schema:
            items = schema["items"]
            message["payload"] = items if "$ref" in items else {"$ref": ref}
            if "$ref" in items:
                del schemas[name]
            else:
                schemas[name] = {**items, "title": schema["title"]}


def documents() -> dict[Path, str]:
    """Every generated document by its path under the repository."""
    out: dict[Path, str] = {}
    for service, build in builders().items():
        _, runtime = build()
        spec = AsyncAPI(
            runtime.bus.broker,
            title=f"Chuangwen {service}",
            version="1",
            description=f"Events and commands of the {service} service (contracts v1).",
            schema_version="3.0.0",
        )
        document = json.loads(spec.to_specification().to_json())
        document.pop("servers", None)  # the address is deployment-specific
        _one_event_per_message(document)
        out[DOCS / "asyncapi" / f"{service}.json"] = _dump(document)
    for model in EVENTS:
        schema = model.model_json_schema(by_alias=True, mode="serialization")
        schema["$id"] = f"chuangwen:{model.SUBJECT}"
        schema["x-subject"] = model.SUBJECT
        out[DOCS / "schemas" / f"{model.SUBJECT}.json"] = _dump(schema)
    return out


def channels_by_service(docs: dict[Path, str]) -> dict[str, set[str]]:
    """The subjects each service's AsyncAPI document lists."""
    found: dict[str, set[str]] = {}
    for path, text in docs.items():
        if path.parent.name == "asyncapi":
            channels = json.loads(text)["channels"].values()
            found[path.stem] = {ch["address"] for ch in channels}
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    docs = documents()
    if command == "write":
        for path, text in docs.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"wrote {len(docs)} documents under {DOCS.relative_to(ROOT)}/")
        return 0
    stale = [p for p, t in docs.items() if not p.exists() or p.read_text(encoding="utf-8") != t]
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"stale or missing documents (run `make docs`): {names}", file=sys.stderr)
        return 1
    print("interface documents are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
