"""One polling Birge per PostgreSQL database (storage/sole.py): polling keeps conversations in
memory, so a second poller must never run beside the first."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.sole import AnotherPoller, SolePoller


def _postgresql_only(db: Database) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: on SQLite Birge is one process by construction")


async def test_a_second_polling_birge_waits_for_the_first_then_stops_with_one_line(
        db: Database) -> None:
    _postgresql_only(db)
    first = SolePoller(db.url)
    await first.acquire(lambda: None)
    second = SolePoller(db.url, wait_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(AnotherPoller, match="another Birge is polling"):
        await second.acquire(lambda: None)
    assert time.monotonic() - started >= 1.4  # it waited for the first to finish first

    # A restart: the old process lets go after writing what it kept; the new one goes on.
    third = SolePoller(db.url, wait_seconds=10)
    waiting = asyncio.create_task(third.acquire(lambda: None))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await first.release()
    await asyncio.wait_for(waiting, 5)
    await third.release()


async def test_polling_stops_when_the_server_drops_the_lock(db: Database) -> None:
    _postgresql_only(db)
    lost = asyncio.Event()
    poller = SolePoller(db.url)
    await poller.acquire(lost.set)
    async with db.engine.connect() as conn:  # the server ends the lock holder's session
        await conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
    await asyncio.wait_for(lost.wait(), 10)
    assert poller.lost  # Birge then exits with an error, for its supervisor to start it again
    await poller.release()
