"""Request-reply commands (``cmd.<service>.v1.<verb>``): every request gets a reply.

A command handler returns a ``CommandReply``. Input that fails validation, and any unexpected
failure, are answered here as a structured error instead of being dead-lettered: the caller is
waiting, and nothing was stored (no stream captures ``cmd.>``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from faststream.message import StreamMessage
from pydantic import ValidationError

from services.contracts.base import to_wire
from services.contracts.commands import CommandError, CommandReply, FieldError

from .failures import is_argument_error

log = logging.getLogger(__name__)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic's errors as (dotted path, message) pairs, e.g. ``location.lat``.

    When FastStream binds a message to a handler's typed parameter, every path starts with the
    parameter's name (``command.``); that part says nothing to the sender and is left out.
    """
    from_arguments = is_argument_error(exc)
    errors = []
    for err in exc.errors():
        loc = err["loc"][1:] if from_arguments and len(err["loc"]) > 1 else err["loc"]
        errors.append(
            FieldError(path=".".join(str(p) for p in loc) or "<root>", message=err["msg"])
        )
    return errors


def describe_validation(exc: ValidationError) -> str:
    """A dead letter's reason: ``invalid payload: <path>: <message>; ...``."""
    parts = [f"{e.path}: {e.message}" for e in field_errors(exc)[:20]]
    return "invalid payload: " + "; ".join(parts)


ErrorCode = Literal["invalid", "not_found", "conflict", "internal"]


def error_reply(
    code: ErrorCode, message: str, fields: list[FieldError] | None = None
) -> CommandReply:
    return CommandReply(
        ok=False,
        error=CommandError(code=code, message=message, fields=fields or []),
    )


async def command_scope(
    call_next: Callable[[StreamMessage[Any]], Awaitable[Any]],
    msg: StreamMessage[Any],
    dead_letter: Callable[[StreamMessage[Any], str], Awaitable[None]],
) -> Any:
    """Run a command handler; turn a failure into an error reply to the caller, and record
    invalid input as a dead letter with the reason (for the operators; nothing was stored)."""
    try:
        return await call_next(msg)
    except ValidationError as exc:
        reply = error_reply("invalid", "the command is invalid", field_errors(exc))
        reason = describe_validation(exc)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reply = error_reply("invalid", f"the command is not JSON: {exc}")
        reason = f"invalid payload: {exc}"
    except Exception:
        log.exception("command failed", extra={"subject": msg.raw_message.subject})
        reply = error_reply("internal", "the command failed; it may be retried")
        reason = ""
    if msg.reply_to:
        await msg.raw_message.respond(to_wire(reply))
    if reason:
        try:
            await dead_letter(msg, reason)
        except Exception:  # the caller has its answer; the record is best effort here
            log.warning("could not dead-letter an invalid command", exc_info=True)
    return None
