"""The collector pause a CPU-bound computation holds, and the heap a served service settles
(services.runtime.heap)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.heap import collector_paused
from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_resume_the_collector_when_the_last_one_ends() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_the_collector_resumes_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the computation failed")
    assert gc.isenabled()


async def test_a_served_service_settles_its_heap_once_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def nothing(self: ServiceRuntime) -> None:
        return None

    monkeypatch.setattr(ServiceRuntime, "start", nothing)  # no servers in a unit test
    monkeypatch.setattr(ServiceRuntime, "stop", nothing)
    runtime = ServiceRuntime("heapprobe", ServiceSettings(), Path("."), ())
    app = runtime.http_app("probe", [])
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
