"""One polling Birge per database (PostgreSQL): the rule that lets polling run as one process.

Telegram answers a second `getUpdates` with 409, so in polling mode Birge is one process, as it
always is on SQLite. On PostgreSQL it then works as on SQLite: conversations in memory and
written in the background (storage/fsm.py), one update at a time per conversation by an
in-process lock, Telegram's limits kept in process (bot/delivery/limits.py). The advisory lock,
the read of the state and the "handled" mark in the lock's COMMIT cost three round trips per
update; without them Birge handled 824 updates/s against 649-706 (issue 20, scripts/
bench_updates.py --phase throughput, one after the other). Webhook replicas keep the shared
path (storage/isolation.py).

Two pollers would split one member's updates between two memories, so this is made to hold, not
hoped for: a polling process holds a session-level advisory lock for its whole life on a
connection of its own. Another one started meanwhile (a restart overlapping the old process's
last seconds, or a second copy by mistake) waits for it, then stops with one line naming the
cause. If the server closes that connection, the lock is gone, so polling stops too
(`on_lost`); a supervisor starting Birge again waits for the lock like any newcomer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from storage.isolation import lock_id
from storage.plain_pool import connect

log = logging.getLogger(__name__)

KEY = lock_id("birge:polling")
WAIT_SECONDS = 60.0


class AnotherPoller(Exception):
    """Another Birge polls Telegram with this database."""


class PollingLost(Exception):
    """The polling lock's connection was closed: polling stopped, so Birge exits with an error
    (a supervisor that restarts on failure starts it again, and it waits for the lock)."""


class SolePoller:
    def __init__(self, url: str, wait_seconds: float = WAIT_SECONDS) -> None:
        self.url = url
        self.wait_seconds = wait_seconds
        self.lost = False
        self._conn: Any = None

    async def acquire(self, on_lost: Callable[[], None]) -> None:
        conn = await connect(self.url)
        deadline = time.monotonic() + self.wait_seconds
        told = False
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", KEY):
                if time.monotonic() >= deadline:
                    raise AnotherPoller(
                        "another Birge is polling Telegram with this database; stop it, or run "
                        "several replicas with WEBHOOK_URL")
                if not told:
                    log.warning("waiting for the other Birge polling with this database to stop")
                    told = True
                await asyncio.sleep(1.0)
        except BaseException:
            await conn.close()
            raise

        def lost(_conn: Any) -> None:
            if self._conn is not None:
                self.lost = True
                log.error("the connection holding the polling lock was closed; stopping")
                self._conn = None
                on_lost()

        conn.add_termination_listener(lost)
        self._conn = conn

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 2.0)
            except Exception:
                conn.terminate()
