"""R1: the unit directory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.issues.domain.errors import InvalidCommand, InvalidTransition, UnknownUnit
from services.issues.domain.units import (
    Category,
    Unit,
    UnitEventKind,
    deactivate,
    reactivate,
    register,
    update,
)

AT = datetime(2018, 6, 1, tzinfo=UTC)


def _directory() -> dict[str, Unit]:
    district, _ = register(
        {},
        unit_id="dist-pengjiang",
        name="蓬江区",
        category=Category.DISTRICT,
        parent_id=None,
        at=AT,
    )
    dept, _ = register(
        {},
        unit_id="dept-urban",
        name="市城管局",
        category=Category.DEPARTMENT,
        parent_id=None,
        at=AT,
    )
    return {u.unit_id: u for u in (district, dept)}


def test_registering_a_unit_publishes_its_full_snapshot() -> None:
    # R1.1, R1.2
    unit, event = register(
        _directory(),
        unit_id="town-baisha",
        name=" 白沙街道 ",
        category=Category.TOWN,
        parent_id="dist-pengjiang",
        at=AT,
    )
    assert unit == Unit(
        unit_id="town-baisha",
        name="白沙街道",
        category=Category.TOWN,
        parent_id="dist-pengjiang",
        active=True,
        version=1,
    )
    assert event.kind is UnitEventKind.REGISTERED
    assert (event.version, event.occurred_at, event.parent_id, event.active) == (
        1,
        AT,
        "dist-pengjiang",
        True,
    )


def test_registering_an_existing_unit_is_refused() -> None:
    # R1.2
    with pytest.raises(InvalidCommand, match="already registered"):
        register(
            _directory(),
            unit_id="dept-urban",
            name="x",
            category=Category.DEPARTMENT,
            parent_id=None,
            at=AT,
        )


@pytest.mark.parametrize(
    "unit_id", ["a", "Dist-pengjiang", "dist_pengjiang", "-dist", "dist-", "x" * 65, "区"]
)
def test_unit_ids_outside_the_pattern_are_refused(unit_id: str) -> None:
    # R1.1
    with pytest.raises(InvalidCommand):
        register({}, unit_id=unit_id, name="x", category=Category.DEPARTMENT, parent_id=None, at=AT)


@pytest.mark.parametrize(
    ("category", "parent_id", "error"),
    [
        (Category.TOWN, None, InvalidCommand),  # a town needs its district
        (Category.TOWN, "dept-urban", InvalidCommand),  # ... and it must be a district
        (Category.TOWN, "dist-nowhere", UnknownUnit),
        (Category.DISTRICT, "dist-pengjiang", InvalidCommand),  # only towns have parents
        (Category.DEPARTMENT, "dist-pengjiang", InvalidCommand),
    ],
)
def test_only_a_town_has_a_parent_and_it_is_a_district(
    category: Category, parent_id: str | None, error: type[Exception]
) -> None:
    # R1.1
    with pytest.raises(error):
        register(
            _directory(),
            unit_id="new-unit",
            name="x",
            category=category,
            parent_id=parent_id,
            at=AT,
        )


def test_update_bumps_the_version_and_a_no_op_update_emits_nothing() -> None:
    # R1.2
    directory = _directory()
    unit, event = update(
        directory,
        unit_id="dept-urban",
        name="市城市管理和综合执法局",
        category=Category.DEPARTMENT,
        parent_id=None,
        at=AT,
    )
    assert event is not None
    assert (unit.version, event.kind, event.name) == (2, UnitEventKind.UPDATED, unit.name)
    same, nothing = update(
        {**directory, unit.unit_id: unit},
        unit_id="dept-urban",
        name=unit.name,
        category=Category.DEPARTMENT,
        parent_id=None,
        at=AT,
    )
    assert (same, nothing) == (unit, None)


def test_a_district_with_towns_cannot_stop_being_a_district() -> None:
    # R1.1: its towns would be left without a district
    directory = _directory()
    town, _ = register(
        directory,
        unit_id="town-baisha",
        name="白沙街道",
        category=Category.TOWN,
        parent_id="dist-pengjiang",
        at=AT,
    )
    directory[town.unit_id] = town
    with pytest.raises(InvalidCommand, match="parent of town-baisha"):
        update(
            directory,
            unit_id="dist-pengjiang",
            name="蓬江区",
            category=Category.DEPARTMENT,
            parent_id=None,
            at=AT,
        )


def test_updating_an_unknown_unit_is_refused() -> None:
    with pytest.raises(UnknownUnit):
        update({}, unit_id="dept-x", name="x", category=Category.DEPARTMENT, parent_id=None, at=AT)


def test_deactivation_and_reactivation_alternate() -> None:
    # R1.3: never deleted; deactivated and reactivated
    directory = _directory()
    off, event = deactivate(directory, "dept-urban", AT)
    assert (off.active, off.version, event.kind) == (False, 2, UnitEventKind.DEACTIVATED)
    with pytest.raises(InvalidTransition) as excinfo:
        deactivate({"dept-urban": off}, "dept-urban", AT)
    assert (excinfo.value.current_state, excinfo.value.attempted) == ("inactive", "deactivate")
    on, event = reactivate({"dept-urban": off}, "dept-urban", AT)
    assert (on.active, on.version, event.kind) == (True, 3, UnitEventKind.REACTIVATED)
    with pytest.raises(InvalidTransition):
        reactivate(directory, "dept-urban", AT)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deactivate(_directory(), "dept-urban", datetime(2018, 6, 1))
