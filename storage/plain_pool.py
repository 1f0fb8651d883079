"""A few plain asyncpg connections, for the statements every update makes on PostgreSQL.

Each update takes its conversation's lock on a connection of its own (storage/isolation.py) and
reads and writes the conversation's state there (storage/fsm.py). Through SQLAlchemy a checkout
with the lock and its COMMIT cost ~180 µs of Birge's CPU, a state read ~170 µs and an upsert in a
session ~360 µs; straight on asyncpg the three take ~40-70 µs each (issue 20, measured here). So
these connections are asyncpg's own, handed out from a list: asyncpg's `Pool` resets every
connection it takes back (one more round trip per update).

A connection is checked like the main pool's (storage/db.py): not at every checkout, only after
it sat idle for `IDLE_PING_SECONDS`; one the server closed is replaced, one that failed mid-use
is closed and never handed out again, and none lives longer than `RECYCLE_SECONDS`. JSON columns
read as Python values and are written from text, as on SQLAlchemy's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from storage.db import IDLE_PING_SECONDS

RECYCLE_SECONDS = 1800.0


async def connect(url: str) -> Any:
    """One plain asyncpg connection to `url` (an SQLAlchemy URL, postgresql+asyncpg://…), with
    the connection arguments SQLAlchemy's own asyncpg dialect would use."""
    import asyncpg
    from sqlalchemy.dialects.postgresql.asyncpg import dialect
    from sqlalchemy.engine import make_url

    args, kwargs = dialect().create_connect_args(make_url(url))
    return await asyncpg.connect(*args, **kwargs)


class PlainPool:
    """At most `size` connections to `url` (an SQLAlchemy URL, postgresql+asyncpg://…)."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.slots = asyncio.Semaphore(size)
        self._idle: list[tuple[Any, float, float]] = []  # (connection, created, idle since)
        self._closed = False

    async def _connect(self) -> Any:
        conn = await connect(self.url)
        await conn.set_type_codec("json", schema="pg_catalog", format="text",
                                  encoder=lambda text: text, decoder=json.loads)
        return conn

    async def _take(self) -> tuple[Any, float]:
        now = time.monotonic()
        while self._idle:
            conn, created, since = self._idle.pop()
            if conn.is_closed() or now - created > RECYCLE_SECONDS:
                await _close(conn)
                continue
            if now - since > IDLE_PING_SECONDS:
                try:
                    await conn.execute(";")
                except Exception:  # closed by the server or a failover: replace it
                    await _close(conn)
                    continue
            return conn, created
        return await self._connect(), now

    @asynccontextmanager
    async def connection(self) -> AsyncGenerator[Any, None]:
        """A connection in autocommit; it goes back to the pool only if what was done on it
        ended cleanly (the caller ends its own transactions)."""
        async with self.slots:
            conn, created = await self._take()
            ok = False
            try:
                yield conn
                ok = True
            finally:
                if ok and not self._closed and not conn.is_closed() \
                        and not conn.is_in_transaction():
                    self._idle.append((conn, created, time.monotonic()))
                else:
                    await _close(conn)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn, _created, _since in idle:
            await _close(conn)


async def _close(conn: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(conn.close(), 2.0)
    if not conn.is_closed():
        conn.terminate()
