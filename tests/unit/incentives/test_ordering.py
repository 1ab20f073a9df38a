"""R6.2 in one process: edition n waits for n-1 only while n-1 is handled here."""

import asyncio

from services.incentives.ordering import SettlementOrder


async def test_an_edition_does_not_wait_for_one_not_in_flight_here() -> None:
    order = SettlementOrder()
    assert await order.wait_for(2018, 1, seconds=5) is False


async def test_an_edition_waits_until_the_one_before_it_is_settled_here() -> None:
    order = SettlementOrder()

    async def settle_first() -> None:
        async with order.handling(2018, 1):
            await asyncio.sleep(0.05)
            await order.settled(2018, 1)

    first = asyncio.create_task(settle_first())
    await asyncio.sleep(0)
    assert await order.wait_for(2018, 1, seconds=5) is True
    await first


async def test_a_wait_ends_when_the_one_before_gives_up() -> None:
    order = SettlementOrder()
    released = asyncio.Event()

    async def give_up() -> None:
        async with order.handling(2018, 1):
            await released.wait()

    task = asyncio.create_task(give_up())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(order.wait_for(2018, 1, seconds=5))
    await asyncio.sleep(0.01)
    released.set()
    assert await asyncio.wait_for(waiting, 1) is True
    await task
    assert await order.wait_for(2018, 1, seconds=5) is False


async def test_a_long_running_process_remembers_a_bounded_number_of_editions() -> None:
    order = SettlementOrder(max_settled=3)
    for number in range(1, 101):
        async with order.handling(2018, number):
            await order.settled(2018, number)
    assert len(order._settled) == 3 and not order._in_flight
    assert await order.wait_for(2018, 100, seconds=0) is True  # the latest are remembered
    assert await order.wait_for(2018, 1, seconds=0) is False  # forgotten: the caller naks
