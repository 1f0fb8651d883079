"""One update at a time per conversation, across every Birge replica (PostgreSQL, webhook mode;
a polling Birge is one process, storage/sole.py, and takes aiogram's in-process lock instead).

With several replicas behind a load balancer, a member's next update may reach another process
while the previous one is still being handled. aiogram runs each update's handler inside
`events_isolation.lock(key)`; here that lock is a PostgreSQL transaction-level advisory lock on
the conversation's key, so a second replica waits until the first has committed its step (and the
conversation state that goes with it). An in-process lock comes first, so updates queued in the
same process do not each hold a database connection while they wait. The lock is released when
its transaction ends — also when the process dies, since the connection goes with it.
While it is held, `held` names the conversation and the lock's connection: no other process can
change the conversation's state until the lock is released, so storage/fsm.py reads that state
once per update (on this connection) and keeps it there, and the update's "handled" mark, when its
handler wrote nothing else, goes into the lock's transaction (storage/inbox.py) and commits with
the lock's release. Taking the lock is one round trip (`BEGIN; SELECT pg_advisory_xact_lock`),
releasing it one more (COMMIT): on PostgreSQL an ordinary update used to spend a third of Birge's
CPU on round trips (issue 20).

The locks' connections come from a pool of their own (`size` plain asyncpg connections,
storage/plain_pool.py), and at most `size` conversations are handled at once per process: a
handler holding its lock never waits for a connection that another lock holder has, and a burst
of updates waits in memory, not in the pool.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation

from storage.db import Database
from storage.plain_pool import PlainPool


@dataclass(eq=False)
class Held:
    """The conversation whose lock this task holds, its state once read or saved, and the
    lock's asyncpg connection (inside the lock's transaction) until the lock is released:
    the statements every update makes there go straight to asyncpg (storage/plain_pool.py)."""

    key: str
    raw: Any = None
    state: Any = None
    # Plain SQL sent with the COMMIT in the same round trip (storage/inbox.py: the mark).
    with_commit: list[str] = field(default_factory=list)

    def holds(self, key: str) -> bool:
        return self.raw is not None and self.key == key


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
        self._pool: PlainPool | None = None

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        k = self.keys.build(key)
        lock, users = self._local.get(k, (asyncio.Lock(), 0))
        self._local[k] = (lock, users + 1)
        try:
            if self._pool is None:
                self._pool = PlainPool(self.db.url, self.size)
            async with lock, self._pool.connection() as raw:
                here = Held(k, raw)
                async with self._transaction(raw, lock_id(k), here.with_commit):
                    token = held.set(here)
                    try:
                        yield
                    finally:
                        held.reset(token)
                        here.raw = here.state = None  # a task the handler started: not held
        finally:
            lock, users = self._local[k]
            if users <= 1:
                del self._local[k]
            else:
                self._local[k] = (lock, users - 1)

    @staticmethod
    @asynccontextmanager
    async def _transaction(raw: Any, key: int,
                           with_commit: list[str]) -> AsyncGenerator[None, None]:
        """BEGIN and the lock in one round trip (a simple query on a connection in autocommit),
        then `with_commit` and COMMIT in one more — also when the handler failed: what the
        update wrote here (its "handled" mark, storage/inbox.py) is kept, as it was in a
        transaction of its own before. A connection whose transaction cannot be ended is
        closed (storage/plain_pool.py), not returned to the pool with the lock held."""
        ended = False
        try:
            await raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({int(key)})")
            try:
                yield
            finally:
                await raw.execute("; ".join([*with_commit, "COMMIT"]))
                ended = True
        finally:
            if not ended:
                await raw.execute("ROLLBACK")

    async def close(self) -> None:
        self._local.clear()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class BoundedIsolation(SimpleEventIsolation):
    """One process (a polling Birge on PostgreSQL, storage/sole.py): aiogram's in-process lock
    per conversation, and at most `size` updates handled at once, as under `AdvisoryIsolation`:
    a handler that holds a pooled connection and asks for another never finds the pool filled by
    others doing the same (32 at once against a pool of 10 waited out its 30 s timeout)."""

    def __init__(self, size: int = 5) -> None:
        super().__init__()
        self.size = size
        self._slots: asyncio.Semaphore | None = None

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with super().lock(key), self._slots:
            yield
