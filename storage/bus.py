"""A message bus between the replicas of one PostgreSQL database: LISTEN/NOTIFY.

Replicas keep small read caches (bot/services/cache.py). A commit in one process forgets that
process's stale entries at once; the others hear of it here within milliseconds: the committing
process publishes what it changed on a channel every replica listens to. A replica that loses
its listening connection reconnects and, having possibly missed messages, forgets everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

CHANNEL = "birge_changes"
MAX_PAYLOAD = 7900  # PostgreSQL refuses notifications over 8000 bytes


class Bus:
    def __init__(self, url: str, on_message: Callable[[str], None],
                 on_reconnect: Callable[[], None]) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.on_message = on_message
        self.on_reconnect = on_reconnect
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._run(), name="change-bus")

    async def _connect(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        own = conn.get_server_pid()

        def heard(_conn: Any, pid: int, _channel: str, payload: str) -> None:
            if pid != own:  # our own commits were applied when they happened
                try:
                    self.on_message(payload)
                except Exception:
                    log.exception("applying a change notice failed")

        await conn.add_listener(CHANNEL, heard)
        conn.add_termination_listener(lambda _c: self._lost.set())
        self._lost.clear()
        self._conn = conn

    def publish(self, payload: str) -> None:
        """Send `payload` to every other replica (in the background, in order)."""
        self._queue.put_nowait(payload if len(payload) <= MAX_PAYLOAD else "*")

    async def _run(self) -> None:
        while True:
            if self._lost.is_set() or self._conn is None or self._conn.is_closed():
                await self._reconnect()
                continue
            getter = asyncio.ensure_future(self._queue.get())
            lost = asyncio.ensure_future(self._lost.wait())
            try:
                await asyncio.wait({getter, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when stop() cancels us: no waiter is left pending
                lost.cancel()
                if not getter.done():
                    getter.cancel()
            if getter.cancelled():
                continue
            payload = getter.result()
            try:
                await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            except Exception:
                log.warning("publishing a change notice failed; reconnecting")
                self._lost.set()

    async def _reconnect(self) -> None:
        with contextlib.suppress(Exception):
            if self._conn is not None:
                await self._conn.close(timeout=1)
        self._conn = None
        while True:
            try:
                await self._connect()
                break
            except Exception:
                await asyncio.sleep(1.0)
        self.on_reconnect()  # notices may have been missed meanwhile

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        # Notices still queued (commits of the last moment) go out before we leave.
        while not self._queue.empty() and self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL,
                                         self._queue.get_nowait())
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)
            self._conn = None
