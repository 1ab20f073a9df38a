"""`ServiceRuntime.after_commit` on real PostgreSQL: wake-ups run after a commit, once, and
never after a rollback; the outbox relay is woken only by a commit that staged events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Servers

from .runtime_probe.probe import Probe, running, scored

pytestmark = pytest.mark.integration


@pytest.fixture
async def probe(server_env: Servers) -> AsyncIterator[Probe]:
    async with running() as probe:
        yield probe


async def test_a_hook_runs_once_after_the_commit_and_sees_its_writes(probe: Probe) -> None:
    runtime = probe.runtime
    calls: list[bool] = []
    event = scored("dept-hooked")

    def hook() -> None:  # a wake-up: what it wakes must find the committed row
        calls.append(True)

    async def committed() -> bool:
        async with runtime.pool.connection() as other:
            cur = await other.execute("SELECT 1 FROM outbox WHERE event_id = %s", (event.event_id,))
            return await cur.fetchone() is not None

    async with runtime.transaction() as conn:
        await runtime.commit(conn, [event])
        runtime.after_commit(conn, hook)
        runtime.after_commit(conn, hook)  # asked twice: called once
        assert calls == []
        assert not await committed()
    assert calls == [True]
    assert await committed()


async def test_a_rolled_back_transaction_runs_no_hook(probe: Probe) -> None:
    runtime = probe.runtime
    calls: list[str] = []

    async def failing_use_case() -> None:
        async with runtime.transaction() as conn:
            runtime.after_commit(conn, lambda: calls.append("after"))
            raise RuntimeError("use case failed")

    with pytest.raises(RuntimeError, match="use case failed"):
        await failing_use_case()
    assert calls == []


async def test_a_connection_outside_a_runtime_transaction_is_refused(probe: Probe) -> None:
    async with probe.runtime.pool.connection() as conn:
        with pytest.raises(RuntimeError, match="not a connection of an open runtime transaction"):
            probe.runtime.after_commit(conn, lambda: None)


async def test_the_relay_is_woken_by_a_commit_that_staged_events_and_by_no_other(
    probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = probe.runtime
    relay = runtime._relay
    assert relay is not None
    pokes: list[int] = []
    monkeypatch.setattr(relay, "poke", lambda: pokes.append(1))

    async with runtime.transaction() as conn:  # a consumer's batch that staged nothing
        await conn.execute("SELECT 1")
    assert pokes == []

    async def rolled_back() -> None:
        async with runtime.transaction() as conn:
            await runtime.commit(conn, [scored("dept-rolled-back")])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await rolled_back()
    assert pokes == []

    async with runtime.transaction() as conn:
        await runtime.commit(conn, [scored("dept-a"), scored("dept-b")])
        await runtime.commit_raw(conn, scored("dept-c").event_id, "x", b"{}")
        assert pokes == []  # not before the commit: the relay would find nothing yet
    assert pokes == [1]
