"""``cmd.issues.v1.*``: request-reply commands for internal systems (intake and directory).

Invalid input is answered (with field paths) and dead-lettered by the runtime's command scope;
a command the rules refuse is answered with a structured error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from services.contracts import commands as cmd
from services.contracts.commands import CommandReply, FieldError
from services.runtime.commands import error_reply

from ..directory import UnitDirectory
from ..domain.errors import DomainError, InvalidTransition, UnknownUnit
from ..use_cases import IssuesService


async def answer(call: Awaitable[dict[str, Any]]) -> CommandReply:
    """The use case's result, or its refusal as a structured error."""
    try:
        return CommandReply(ok=True, result=await call)
    except UnknownUnit as exc:
        return error_reply("not_found", str(exc), [FieldError(path="unit_id", message=str(exc))])
    except InvalidTransition as exc:
        return error_reply("conflict", str(exc))
    except DomainError as exc:
        return error_reply("invalid", str(exc))


def subscribe(service: IssuesService, directory: UnitDirectory) -> None:
    command = service.runtime.bus.command

    @command(cmd.REPORT_ISSUE, "Report an issue (R2.1-R2.2); the reply is the created issue.")
    async def report(command: cmd.ReportIssue) -> CommandReply:
        return await answer(service.report_issue(command))

    @command(cmd.REGISTER_UNIT, "Register a unit (R1.1-R1.2); the reply is the unit.")
    async def register_unit(command: cmd.RegisterUnit) -> CommandReply:
        return await answer(directory.register(command))

    @command(cmd.UPDATE_UNIT, "Update a unit's name, category and parent (R1.2).")
    async def update_unit(command: cmd.UpdateUnit) -> CommandReply:
        return await answer(directory.update(command))

    @command(cmd.DEACTIVATE_UNIT, "Deactivate a unit (R1.3); it is never deleted.")
    async def deactivate_unit(command: cmd.UnitRef) -> CommandReply:
        return await answer(directory.deactivate(command.unit_id))

    @command(cmd.REACTIVATE_UNIT, "Reactivate a unit (R1.3).")
    async def reactivate_unit(command: cmd.UnitRef) -> CommandReply:
        return await answer(directory.reactivate(command.unit_id))
