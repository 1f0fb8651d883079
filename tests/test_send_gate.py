"""The send gates: the shared one places each slot taken in the database on this process's clock;
the in-process one keeps a strict one-second window however the network delays messages."""

from bot.delivery.limits import DatabaseClock


def test_a_slot_lands_at_its_moment_however_late_the_answer_that_carried_it_came() -> None:
    clock = DatabaseClock()
    # A quick round trip: 2 ms; the database's clock is 990 s ahead of the loop's.
    clock.observe(sent=10.000, received=10.002, database_now=1000.001)
    # A slow one (a busy loop took 200 ms to read the answer) must not move the slots later.
    clock.observe(sent=20.000, received=20.200, database_now=1010.001)
    assert abs(clock.to_loop(1010.5) - 20.5) < 0.002


def test_the_clock_follows_the_fastest_of_the_recent_round_trips_only() -> None:
    clock = DatabaseClock(keep=2)
    clock.observe(sent=0.0, received=0.001, database_now=100.0005)  # offset 100.0
    clock.observe(sent=1.0, received=1.010, database_now=101.105)  # offset 100.1
    clock.observe(sent=2.0, received=2.004, database_now=102.102)  # offset 100.1: the first is gone
    assert abs(clock.to_loop(110.1) - 10.0) < 0.001


async def test_a_broadcast_at_the_cap_meets_no_429_however_the_network_delays_messages() -> None:
    """Telegram counts a message somewhere between its leaving and its answer. Here one message in
    ten is held 150 ms on its way (a stall in the network or at Telegram), the others 0-5 ms,
    before a strict one-second window (the emulator's) counts it; each is answered up to 40 ms
    later. Counted from their leaving, the gate's messages made 51 in a second."""
    import asyncio
    import random
    import time
    from collections import deque
    from typing import Any

    from aiogram.methods import Response, SendMessage

    from bot.delivery.limits import GateMiddleware, SendGate, bulk
    from bot.sandbox.emulator.limits import window_retry_after

    cap, messages = 50.0, 300
    rng = random.Random(20)
    window: deque[float] = deque()
    refused: list[float] = []

    async def telegram(_bot: Any, _method: Any) -> Response[Any]:
        await asyncio.sleep(0.15 if rng.random() < 0.1 else rng.uniform(0, 0.005))
        now = time.monotonic()
        if window_retry_after(window, now, cap) is not None:
            refused.append(now)
        else:
            window.append(now)
        await asyncio.sleep(rng.uniform(0, 0.04))
        return Response[Any](ok=True, result=True)

    gate = GateMiddleware(SendGate(cap))

    async def send(n: int) -> None:
        with bulk():
            await gate(telegram, None, SendMessage(chat_id=n, text="."))  # type: ignore[arg-type]

    started = time.monotonic()
    await asyncio.gather(*(send(n) for n in range(1, messages + 1)))
    took = time.monotonic() - started
    assert refused == []
    assert len(window) > 0 and took < messages / cap * 2  # and still about the cap's pace
