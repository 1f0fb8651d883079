"""One update at a time per conversation, across every Birge replica (PostgreSQL).

With several replicas behind a load balancer, a member's next update may reach another process
while the previous one is still being handled. aiogram runs each update's handler inside
`events_isolation.lock(key)`; here that lock is a PostgreSQL transaction-level advisory lock on
the conversation's key, so a second replica waits until the first has committed its step (and the
conversation state that goes with it). An in-process lock comes first, so updates queued in the
same process do not each hold a database connection while they wait. The lock is released when
its transaction ends — also when the process dies, since the connection goes with it.
While it is held, `held` names the conversation: no other process can change its state until the
lock is released, so storage/fsm.py reads that state once per update and keeps it there.

The locks' connections come from a pool of their own (`size` connections), and at most `size`
conversations are handled at once per process: a handler holding its lock never waits for a
connection that another lock holder has, and a burst of updates waits in memory, not in the pool.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder, StorageKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import Database, ping_when_idle


@dataclass(eq=False)
class Held:
    """The conversation whose lock this task holds, and its state once read or saved."""

    key: str
    state: Any = None


held: ContextVar[Held | None] = ContextVar("birge_held_conversation", default=None)


def lock_id(key: str) -> int:
    """A stable signed 64-bit id for a key (Python's hash() differs between processes)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                          signed=True)


class AdvisoryIsolation(BaseEventIsolation):
    def __init__(self, db: Database, size: int = 5) -> None:
        self.db = db
        self.size = size
        self.keys = DefaultKeyBuilder(with_destiny=True)
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        self._engine: AsyncEngine | None = None
        self._slots: asyncio.Semaphore | None = None

    def _pool(self) -> tuple[AsyncEngine, asyncio.Semaphore]:
        if self._engine is None or self._slots is None:
            self._engine = create_async_engine(self.db.url, pool_size=self.size,
                                               max_overflow=0, pool_recycle=1800)
            ping_when_idle(self._engine)
            self._slots = asyncio.Semaphore(self.size)
        return self._engine, self._slots

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        k = self.keys.build(key)
        lock, users = self._local.get(k, (asyncio.Lock(), 0))
        self._local[k] = (lock, users + 1)
        try:
            engine, slots = self._pool()
            async with lock, slots, engine.connect() as conn, conn.begin():
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id(k)})
                token = held.set(Held(k))
                try:
                    yield
                finally:
                    held.reset(token)
        finally:
            lock, users = self._local[k]
            if users <= 1:
                del self._local[k]
            else:
                self._local[k] = (lock, users - 1)

    async def close(self) -> None:
        self._local.clear()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()
