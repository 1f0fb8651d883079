"""SQLite through aiosqlite with one trip to the database thread per statement
(storage/sqlite_driver.py): fewer trips, and the same answers SQLAlchemy's own adapter gives."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, func, insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update

from storage import db as db_module
from storage.db import Database
from storage.models import Member, UpdateLog
from storage.types import utcnow
from tests import factories


@pytest.fixture
async def sqlite_db(migrated_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "birge.db"
    shutil.copy(migrated_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db
    await db.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call Birge makes to an aiosqlite connection's thread, by function name."""
    made: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield made


async def test_sqlite_reading_a_member_is_one_trip_to_the_database_thread(
        sqlite_db: Database, trips: list[str]) -> None:
    member = await factories.member(sqlite_db, "Айгүл Токтогулова")
    async with sqlite_db.read() as s:
        await s.get(Member, member.id)  # a connection from the pool, opened before
    trips.clear()
    async with sqlite_db.read() as s:
        found = await s.get(Member, member.id)
        names = (await s.exec(select(Member.full_name).where(col(Member.id) == member.id)))
        assert names.all() == ["Айгүл Токтогулова"]
    assert found is not None and found.full_name == "Айгүл Токтогулова"
    # two SELECTs, no cursor of their own, no ROLLBACK of a session that wrote nothing
    assert len(trips) == 2, trips


async def test_sqlite_a_write_commits_once_and_reports_the_rows_it_changed(
        sqlite_db: Database, trips: list[str]) -> None:
    member = await factories.member(sqlite_db, "Бакыт Осмонов")
    trips.clear()
    async with sqlite_db.transaction() as s:
        changed = await s.exec(update(Member).where(col(Member.id) == member.id)
                               .values(full_name="Бакыт Осмонов уулу"))
        assert changed.rowcount == 1
        unchanged = await s.exec(update(Member).where(col(Member.id) == -1)
                                 .values(full_name="Nobody"))
        assert unchanged.rowcount == 0
    assert len(trips) == 3, trips  # two UPDATEs and the COMMIT
    async with sqlite_db.read() as s:
        row = await s.get(Member, member.id)
    assert row is not None and row.full_name == "Бакыт Осмонов уулу"


async def test_sqlite_a_failed_write_leaves_nothing_and_new_rows_get_their_ids(
        sqlite_db: Database) -> None:
    member = await factories.member(sqlite_db, "Нурлан Садыков")
    async with sqlite_db.read() as s:
        before = (await s.exec(select(func.count()).select_from(Member))).one()
    with pytest.raises(RuntimeError):
        async with sqlite_db.transaction() as s:
            await s.exec(update(Member).where(col(Member.id) == member.id)
                         .values(full_name="Half written"))
            raise RuntimeError("the service refused after its first statement")
    with pytest.raises(IntegrityError):
        async with sqlite_db.transaction() as s:
            s.add(Member(telegram_id=member.telegram_id, full_name="Same Telegram account",
                         language="ky", position="head_ao", status="active"))
    async with sqlite_db.transaction() as s:
        fresh = Member(telegram_id=990_001, full_name="Жаңы мүчө", language="ky",
                       position="head_ao", status="active")
        s.add(fresh)
        await s.flush()
        assert fresh.id is not None and fresh.id > member.id  # lastrowid
    async with sqlite_db.read() as s:
        row = await s.get(Member, member.id)
        count = (await s.exec(select(func.count()).select_from(Member))).one()
    assert row is not None and row.full_name == "Нурлан Садыков"
    assert count == before + 1


async def test_sqlite_many_rows_in_one_statement_and_many_parameter_sets(
        sqlite_db: Database) -> None:
    now = utcnow()
    rows = [{"update_id": i, "payload": {"update_id": i}, "received_at": now,
             "claimed_until": now} for i in range(1, 301)]
    async with sqlite_db.transaction() as s:
        conn = await s.connection()
        await conn.execute(insert(UpdateLog), rows[:150])  # executemany
        await conn.execute(insert(UpdateLog).values(rows[150:]))  # one multi-row INSERT
    async with sqlite_db.read() as s:
        ids = (await s.exec(select(UpdateLog.update_id).order_by(col(UpdateLog.update_id))
                            )).all()
        first = (await s.exec(select(UpdateLog).where(col(UpdateLog.update_id) == 7))).one()
    assert ids == list(range(1, 301))
    assert first.payload == {"update_id": 7}


async def test_sqlite_keeps_its_connections_when_many_updates_read_at_once(
        sqlite_db: Database) -> None:
    """40 updates reading at once, twice: the second time no connection is opened again (each
    opening starts a thread, runs the PRAGMAs and reads SQLite's schema once more)."""
    opened: list[object] = []
    event.listen(sqlite_db.engine.sync_engine.pool, "connect", lambda *a: opened.append(a))
    member = await factories.member(sqlite_db, "Бакыт Асанов")
    gate = asyncio.Event()

    async def reader() -> None:
        async with sqlite_db.read() as s:
            assert await s.get(Member, member.id) is not None
            await gate.wait()  # all 40 hold their connection at once

    async def forty_at_once() -> int:
        gate.clear()
        readers = [asyncio.create_task(reader()) for _ in range(40)]
        await asyncio.sleep(0.2)
        gate.set()
        await asyncio.gather(*readers)
        return len(opened)

    first = await forty_at_once()
    assert first >= 40
    assert await forty_at_once() == first  # every connection was kept and used again


async def test_sqlite_log_is_copied_back_after_writes_outside_any_writer(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer's COMMIT no longer copies SQLite's write-ahead log into the database file (it
    took 495 ms once on a year of data, every writer queued behind it): Birge does it a moment
    after the writes, in the background, where no writer waits for it."""
    monkeypatch.setattr(db_module, "CHECKPOINT_SECONDS", 0.05)
    checkpoints: list[bool] = []  # by a writer, holding the write queue?

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "wal_checkpoint" in statement:
            task = asyncio.current_task()
            checkpoints.append(task is None or task is sqlite_db._owner)

    event.listen(sqlite_db.engine.sync_engine, "before_cursor_execute", seen)
    async with sqlite_db.read() as s:
        pages = (await s.exec(text("PRAGMA wal_autocheckpoint"))).one()  # type: ignore[call-overload]
    assert pages[0] == db_module.AUTOCHECKPOINT_PAGES
    for name in ("Айбек", "Бермет", "Гулзат", "Данияр", "Эрмек"):
        await factories.member(sqlite_db, f"{name} Осмонов")
    for _ in range(50):
        if checkpoints:
            break
        await asyncio.sleep(0.02)
    assert checkpoints  # a moment after the writes
    assert not any(checkpoints)  # in the background: no writer waited for it


async def test_a_failed_background_checkpoint_is_one_line_in_the_log(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A checkpoint that fails (the file locked by a backup, say) is retried by the next write:
    a warning of one line, never a traceback in the log."""
    monkeypatch.setattr(db_module, "CHECKPOINT_SECONDS", 0.0)

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "wal_checkpoint" in statement:
            raise aiosqlite.OperationalError("database is locked")

    event.listen(sqlite_db.engine.sync_engine, "before_cursor_execute", refuse)
    with caplog.at_level("WARNING", logger="storage.db"):
        await sqlite_db._checkpoint_soon()
    failed = [r for r in caplog.records if "checkpoint failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is None
    assert "database is locked" in failed[0].getMessage()
