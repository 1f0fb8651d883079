"""What one ordinary update costs PostgreSQL in round trips (issue 20: Birge's CPU per update).

A pooled connection is checked only after it sat idle (a check is three round trips), and one the
server closed meanwhile is replaced, not used. While an update holds its conversation's lock, the
conversation's state is read once, and an unchanged state is not written again; the next update
(on whichever replica) reads it afresh."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from sqlalchemy import Engine, event, text

import storage.db
from storage import inbox
from storage.db import Database, handling
from storage.fsm import SQLStorage
from storage.inbox import Inbox
from storage.isolation import AdvisoryIsolation
from storage.models import FsmRecord

KEY = StorageKey(bot_id=1, chat_id=7, user_id=7)


def _postgresql_only(db: Database) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite keeps conversations in memory, with no pool checks")


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every statement any engine sends (Birge's pool and the locks' pool), and those sent on a
    lock's connection straight to asyncpg (storage/fsm.py)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    with pytest.MonkeyPatch.context() as patch:
        try:
            import asyncpg
        except ImportError:  # SQLite only here
            asyncpg = None
        for name in ("fetchrow", "execute", "executemany") if asyncpg else ():
            real = getattr(asyncpg.Connection, name)

            def counted(self: Any, query: str, *args: Any, _real: Any = real,
                        **kwargs: Any) -> Any:
                if not query.startswith(("BEGIN", "COMMIT", "ROLLBACK", "UPDATE update_log")):
                    seen.append(query)
                return _real(self, query, *args, **kwargs)

            patch.setattr(asyncpg.Connection, name, counted)
        try:
            yield seen
        finally:
            event.remove(Engine, "before_cursor_execute", count)


@contextmanager
def _pings(db: Database) -> Iterator[list[object]]:
    dialect = db.engine.sync_engine.dialect
    real = dialect.do_ping
    done: list[object] = []

    def counted(dbapi_conn: Any) -> bool:
        done.append(dbapi_conn)
        return bool(real(dbapi_conn))

    dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        yield done
    finally:
        del dialect.do_ping


def _update(update_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"message_id": 1, "date": 0,
                                                "chat": {"id": 7, "type": "private"},
                                                "text": f"update {update_id}"}}


async def _state(db: Database) -> str | None:
    async with db.read() as s:
        row = await s.get(FsmRecord, DefaultKeyBuilder(with_destiny=True).build(KEY))
        return row.state if row else None


async def _one(db: Database) -> int:
    async with db.read() as s:
        return int((await s.exec(text("SELECT 1"))).scalar_one())  # type: ignore[call-overload]


async def test_a_connection_used_moments_ago_is_not_checked_and_a_closed_idle_one_is_replaced(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _postgresql_only(db)
    await _one(db)
    with _pings(db) as pings:
        for _ in range(5):
            assert await _one(db) == 1
        assert pings == []
        # The server closes every pooled connection (a restart, a failover) ...
        async with db.read() as s:
            await s.exec(text(  # type: ignore[call-overload]
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        # ... while they sit idle: the next checkout checks, replaces and answers.
        later = storage.db.time.monotonic() + storage.db.IDLE_PING_SECONDS + 1
        monkeypatch.setattr(storage.db.time, "monotonic", lambda: later)
        assert await _one(db) == 1
        assert len(pings) >= 1


async def test_an_update_reads_its_conversation_once_and_leaves_an_unchanged_one_alone(
        db: Database) -> None:
    _postgresql_only(db)
    conversations = SQLStorage(db)
    isolation = AdvisoryIsolation(db, size=2)
    try:
        with _statements() as seen:
            async with isolation.lock(KEY):
                assert await conversations.get_state(KEY) is None
                assert await conversations.get_data(KEY) == {}
                await conversations.set_state(KEY, None)  # /help clears: nothing to clear
                assert await conversations.get_state(KEY) is None
            assert [s for s in seen if "fsm_record" in s and s.startswith("SELECT")] != []
            assert len([s for s in seen if "fsm_record" in s]) == 1
            seen.clear()
            async with isolation.lock(KEY):
                await conversations.set_state(KEY, "Onboarding:name")
                assert await conversations.get_state(KEY) == "Onboarding:name"
                await conversations.set_data(KEY, {"name": "Айгүл"})
            reads = [s for s in seen if "fsm_record" in s and s.startswith("SELECT")]
            assert len(reads) == 1
            seen.clear()
            async with isolation.lock(KEY):  # the next update, on any replica: read afresh
                assert await conversations.get_state(KEY) == "Onboarding:name"
                assert await conversations.get_data(KEY) == {"name": "Айгүл"}
            assert len([s for s in seen if "fsm_record" in s]) == 1
    finally:
        await isolation.close()
        await conversations.close()


async def test_a_flow_step_that_changes_its_data_in_place_is_still_written(db: Database) -> None:
    """A library draft's step lives in `data["lib"]`; the flow changes it in place and saves."""
    conversations = SQLStorage(db)
    isolation = AdvisoryIsolation(db, size=2) if db.url.startswith("postgresql") else None
    lock = isolation.lock if isolation is not None else (lambda _key: contextlib.nullcontext())
    try:
        async with lock(KEY):
            await conversations.set_state(KEY, "LibFlow:text")
            await conversations.set_data(KEY, {"lib": {"step": "title"}})
        async with lock(KEY):
            data = await conversations.get_data(KEY)
            data["lib"]["step"] = "body"
            await conversations.set_data(KEY, data)
        await conversations.close()
        async with lock(KEY):  # the next update, on any replica (or after a restart)
            again = SQLStorage(db)
            assert await again.get_data(KEY) == {"lib": {"step": "body"}}
            await again.close()
    finally:
        if isolation is not None:
            await isolation.close()
        await conversations.close()


async def test_an_update_that_wrote_nothing_is_marked_as_its_lock_is_released_even_if_it_failed(
        db: Database) -> None:
    _postgresql_only(db)
    conversations = SQLStorage(db)
    box = Inbox(db, conversations)
    isolation = AdvisoryIsolation(db, size=2)
    await box.record([_update(i) for i in (11, 12, 13, 14, 15)])

    async def handle(update_id: int, state: str | None, fails: bool = False) -> None:
        current = box.begin(update_id)
        assert current is not None
        token = handling.set(current)  # as bot/inbox.py's UpdateMiddleware does
        try:
            await conversations.set_state(KEY, state)  # a step, nothing else written
            if fails:
                raise RuntimeError("the handler failed after its answer was sent")
        finally:
            handling.reset(token)
            await box.finish(current)
            # Not committed yet: the next update (on any replica) waits for the lock.
            assert update_id in await inbox.unhandled(db)

    try:
        for update_id, fails in ((11, False), (12, True)):
            with contextlib.suppress(RuntimeError):
                async with isolation.lock(KEY):
                    await handle(update_id, "Ask:text", fails)
            assert update_id not in await inbox.unhandled(db)
            assert await _state(db) == "Ask:text"
            async with isolation.lock(KEY):
                await handle(update_id + 2, None)
            assert await _state(db) is None
        async with isolation.lock(KEY):  # /help: the state stays as it was (nothing to write)
            await handle(15, None)
        assert await inbox.unhandled(db) == []
    finally:
        await isolation.close()
        await conversations.close()


async def test_a_replica_that_waited_for_the_lock_reads_the_step_the_other_one_saved(
        db: Database) -> None:
    """Two replicas get the same member's updates at once: the second waits for the first's
    lock, and then reads the step the first one saved while it waited, not the one before."""
    _postgresql_only(db)
    first, second = SQLStorage(db), SQLStorage(db)
    one, other = AdvisoryIsolation(db, size=2), AdvisoryIsolation(db, size=2)
    seen: list[str | None] = []

    async def next_update() -> None:
        async with other.lock(KEY):
            seen.append(await second.get_state(KEY))

    try:
        async with one.lock(KEY):
            assert await first.get_state(KEY) is None
            waiting = asyncio.create_task(next_update())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # the other replica waits for this conversation
            await first.set_state(KEY, "Ask:text")
        await asyncio.wait_for(waiting, 5)
        assert seen == ["Ask:text"]
    finally:
        for isolation in (one, other):
            await isolation.close()
        for conversations in (first, second):
            await conversations.close()
