"""Domain errors of the issues service.

Every rejected command raises one of these and changes nothing (R2.3): the decision functions
build new frozen values, so a raise leaves the caller's state exactly as it was.
"""

from __future__ import annotations

__all__ = ["DomainError", "InvalidCommand", "InvalidDeadline", "InvalidTransition", "UnknownUnit"]


class DomainError(ValueError):
    """Base of every rule violation; an adapter maps it to a 4xx answer."""


class InvalidCommand(DomainError):
    """The command is malformed or contradicts the current state outside the state machine."""


class InvalidDeadline(DomainError):
    """R2.2: a deadline before ``found_at`` (or an extension not later than the deadline)."""


class UnknownUnit(DomainError):
    """R1: the unit (or the parent it names) is not in the directory."""

    def __init__(self, unit_id: str) -> None:
        super().__init__(f"unknown unit {unit_id!r}")
        self.unit_id = unit_id


class InvalidTransition(DomainError):
    """R2.3 / R1.3: the attempted transition is not allowed from ``current_state``."""

    def __init__(self, current_state: str, attempted: str) -> None:
        super().__init__(f"cannot {attempted} from state {current_state!s}")
        self.current_state = current_state
        self.attempted = attempted
