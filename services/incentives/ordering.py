"""R6.2 order inside one process: edition n waits for n-1 of its year.

FastStream handles a fetched batch concurrently, so editions n-1 and n of one batch run at the
same time and n may reach the fund first. Rather than nak n (and wait out a redelivery delay for
every edition of a burst), n waits here while n-1 is being handled by this process, and retries
as soon as n-1 is settled or has given up. When n-1 is not in flight here (another replica, a
later batch, a redelivery), waiting would block this consumer's batch for nothing: the caller
naks instead (``NotReady``).

Only the latest ``MAX_SETTLED`` settled editions are remembered (a long-running process would
otherwise grow without limit). Forgetting is safe: an edition whose predecessor was forgotten
is naked and retried, and the ledger itself decides (R6.2); only ``n - 1`` of an edition in
hand is ever asked about, which is among the latest settled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator

Key = tuple[int, int]  # (year, edition number)
MAX_SETTLED = 256  # settled editions remembered: about five years of weekly editions


class SettlementOrder:
    """Which editions this process is handling and has settled, and a way to wait for one."""

    def __init__(self, max_settled: int = MAX_SETTLED) -> None:
        self._changed = asyncio.Condition()
        self._in_flight: Counter[Key] = Counter()
        self._settled: OrderedDict[Key, None] = OrderedDict()  # oldest first, bounded
        self._max_settled = max_settled

    @contextlib.asynccontextmanager
    async def handling(self, year: int, number: int) -> AsyncIterator[None]:
        """Mark edition ``number`` of ``year`` as being handled here for the block's duration."""
        self._in_flight[(year, number)] += 1
        try:
            yield
        finally:
            self._in_flight[(year, number)] -= 1
            if not self._in_flight[(year, number)]:
                del self._in_flight[(year, number)]  # nor does this grow without limit
            await self._notify()

    async def settled(self, year: int, number: int) -> None:
        """Edition ``number`` of ``year`` is settled (committed) by this process."""
        self._settled[(year, number)] = None
        self._settled.move_to_end((year, number))
        while len(self._settled) > self._max_settled:
            self._settled.popitem(last=False)
        await self._notify()

    async def wait_for(self, year: int, number: int, seconds: float) -> bool:
        """Wait up to ``seconds`` while edition ``number`` is in flight here and unsettled.
        False at once when it is not in flight here (the caller should nak instead)."""
        key = (year, number)
        if key in self._settled:
            return True
        if not self._in_flight[key]:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(
                    lambda: key in self._settled or not self._in_flight[key]
                )
        return True

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
