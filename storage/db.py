"""The engine and session factory, for SQLite (default) and PostgreSQL alike.

SQLite gets WAL, foreign keys and a busy timeout on every connection. `Database.transaction()` is
the one way services write: everything inside commits together or not at all.

SQLite allows one writer at a time, and a writer that finds the database locked sleeps in growing
steps (up to 100 ms) before it retries. Under load that sleeping, not work, was what limited
Birge, so on SQLite this process queues its own write transactions on an asyncio lock instead.
A transaction opened while the same task already holds the lock (a refusal logged in its own
transaction before anything was written) does not wait for itself.

On PostgreSQL every round trip costs Birge's CPU (SQLAlchemy's asyncpg adapter, ~0.1 ms each), so
a pool checkout does not ping the server (a ping is three: BEGIN, `;`, ROLLBACK): only a
connection that sat in the pool longer than `IDLE_PING_SECONDS` is checked first (`ping_when_idle`;
a server that closed it meanwhile gets it replaced, not used), and one used moments ago is trusted
(if the server has gone since, the statement fails, SQLAlchemy drops the pool's connections and the
next checkout connects afresh). `read()` runs without BEGIN/ROLLBACK (autocommit): under
PostgreSQL's READ COMMITTED each statement sees its own snapshot anyway, so a transaction around
reads only added two round trips. `statement()` is for one statement that commits by itself.

While a task handles a Telegram update (`handling`, set by bot/inbox.py), its first transaction
that commits also marks that update handled, in the same commit (storage/inbox.py): a crash
before it leaves the update to be handled again on start, a crash after it does not repeat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        return Path(url[len(prefix) :])
    return None


# SQLite connections the pool keeps once opened (each opens lazily, on first need). With
# SQLAlchemy's default of 5 (+10 more that are closed as soon as they are given back), the 32
# updates Birge handles at once took connections beyond the 5 whenever writers queued, and each
# was opened and closed again: a thread started, the PRAGMAs run, SQLite's schema and page cache
# read again (cold statements took 15-25 ms instead of 0.1 ms), the close 15-67 ms. On a year of
# data at 100 updates/s (scripts/bench_updates.py, BENCH_TRACE) 91 connections were opened and
# closed in 20 s, in bursts that matched the slow replies second for second.
SQLITE_POOL_SIZE = 64
SQLITE_MAX_OVERFLOW = 64

# SQLite copies its write-ahead log back into the database file (a checkpoint, with the file
# system's sync) inside the COMMIT that takes the log past wal_autocheckpoint pages (1,000 by
# default): that commit took 495 ms on a year of data while every writer queued behind it
# (BENCH_TRACE). So `Database` checkpoints on its own, in the background on a connection of its
# pool (SQLite's thread; no writer waits: PASSIVE), at most once a CHECKPOINT_SECONDS after
# writes; the automatic one stays only as a bound for writes made past `transaction()` (bulk
# loads, migrations).
CHECKPOINT_SECONDS = 1.0
AUTOCHECKPOINT_PAGES = 10_000

IDLE_PING_SECONDS = 10.0


def ping_when_idle(engine: AsyncEngine, idle: float = IDLE_PING_SECONDS) -> None:
    """Check a pooled PostgreSQL connection at checkout only if it sat idle over `idle` seconds
    (SQLAlchemy's pool_pre_ping pings at every checkout: three round trips each time)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["birge_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("birge_idle_since")
        if since is None or time.monotonic() - since < idle:
            return
        try:
            engine.sync_engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # closed by the server or a failover: the pool replaces it
            raise DisconnectionError(str(exc)) from exc


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        if url.startswith("sqlite+aiosqlite"):
            from storage.sqlite_driver import dbapi

            kwargs["module"] = dbapi()  # one trip to SQLite's thread per statement
            if path is not None:
                kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_MAX_OVERFLOW)
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)
    engine = create_async_engine(url, **kwargs)
    if is_postgresql(url):
        ping_when_idle(engine)  # not at every checkout: see the module's docstring
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            cur.close()

    return engine


def table_of(model: type[Any]) -> Table:
    """A model's table, for the INSERT / UPDATE / DELETE every update makes (the update log, the
    conversation states, a survey answer): a statement on the table runs as plain SQL, while one
    on the model goes through the ORM's bulk machinery first (on SQLite ~600 µs of CPU for a
    transaction with one UPDATE instead of ~380 µs; identical SQL). Only for rows no session
    holds as objects: the ORM does not see such a change."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


class DatabaseUnavailable(Exception):
    """The database cannot be used: a driver is missing or the server cannot be reached.

    The message is one line naming the cause (`birge` prints it and stops)."""


def insert_for(dialect: str) -> Callable[..., Any]:
    """`insert()` with ON CONFLICT for the engine's dialect (`engine.dialect.name`), imported
    when first used: a Birge on SQLite never loads PostgreSQL's dialect (~2 MB, issue 20)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def require_drivers(url: str) -> None:
    """PostgreSQL needs asyncpg: `pip install 'birge[postgres]'` (the scheduler's job store uses
    Birge's own engine: storage/jobstore.py). SQLite's drivers always come with Birge."""
    if not is_postgresql(url):
        return
    for module in ("asyncpg",):
        try:
            __import__(module)
        except ImportError:
            raise DatabaseUnavailable(
                f"DATABASE_URL: PostgreSQL needs the {module} driver, which is not installed; "
                "install Birge with the postgres extra: pip install -e '.[postgres]'") from None


async def check_reachable(url: str, timeout: float = 10.0) -> None:
    """Connect once; `DatabaseUnavailable` with the reason when that fails."""
    require_drivers(url)
    if not is_postgresql(url):
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    where = make_url(url)
    engine = create_async_engine(url, connect_args={"timeout": timeout})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        cause = exc.orig if hasattr(exc, "orig") and exc.orig is not None else exc
        reason = " ".join(str(cause).split()) or type(cause).__name__
        raise DatabaseUnavailable(
            f"DATABASE_URL: cannot reach PostgreSQL at {where.host or 'localhost'}:"
            f"{where.port or 5432}/{where.database or ''} ({type(cause).__name__}: "
            f"{reason[:200]})") from None
    finally:
        await engine.dispose()


@dataclass(eq=False)
class Handling:
    """The update the current task is handling, until its mark is written (`marked`).

    `conversations` holds the conversation states (storage/fsm.py) its handler saved meanwhile:
    they are written with the mark, so a crash leaves neither and the update is handled again
    from the step it arrived at. `write` adds the mark (and those states) to a transaction."""

    update_id: int
    write: Callable[[AsyncSession, Handling], Awaitable[None]]
    marked: bool = False
    conversations: dict[str, Any] = field(default_factory=dict)


handling: ContextVar[Handling | None] = ContextVar("birge_handling", default=None)


class Database:
    def __init__(self, url: str, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size, max_overflow)
        self._factory = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._serialize = url.startswith("sqlite")
        # PostgreSQL: reads and single statements without BEGIN/COMMIT (module docstring).
        self._autocommit_engine = (self.engine.execution_options(isolation_level="AUTOCOMMIT")
                                   if is_postgresql(url) else None)
        self._autocommit = async_sessionmaker(
            self._autocommit_engine, class_=AsyncSession,
            expire_on_commit=False) if self._autocommit_engine is not None else None
        self._write_lock: asyncio.Lock | None = None
        self._sets_lock: asyncio.Lock | None = None
        self._connections = pool_size + max_overflow
        self._owner: asyncio.Task[object] | None = None
        self._checkpoints = _sqlite_file(url) is not None
        self._checkpoint: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success and rolls back on any error."""
        task = asyncio.current_task()
        update = handling.get()
        if update is not None and update.marked:
            update = None
        if not self._serialize or (task is not None and task is self._owner):
            async with self._factory() as session, session.begin():
                yield session
                if update is not None:
                    await update.write(session, update)
            if update is not None:
                update.marked = True
            self._wrote()
            return
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        async with self._write_lock:
            self._owner = task
            try:
                async with self._factory() as session, session.begin():
                    yield session
                    if update is not None:
                        await update.write(session, update)
            finally:
                self._owner = None
        if update is not None:
            update.marked = True
        self._wrote()

    def _wrote(self) -> None:
        """SQLite: a checkpoint within CHECKPOINT_SECONDS (one for all the writes meanwhile)."""
        if self._checkpoints and (self._checkpoint is None or self._checkpoint.done()):
            self._checkpoint = asyncio.create_task(self._checkpoint_soon(),
                                                   name="sqlite-checkpoint",
                                                   context=contextvars.Context())

    async def _checkpoint_soon(self) -> None:
        await asyncio.sleep(CHECKPOINT_SECONDS)
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:  # the next write tries again; the automatic one bounds the log
            log.warning("SQLite checkpoint failed (the next write tries again): %r", exc)

    @asynccontextmanager
    async def read(self, transaction: bool = False) -> AsyncIterator[AsyncSession]:
        """A session for reads only. On PostgreSQL it runs without a transaction unless
        `transaction` (reads whose settings last for the transaction: `SET LOCAL`,
        `set_config(..., true)`); it is rolled back at the end either way."""
        factory = self._factory if transaction else (self._autocommit or self._factory)
        async with factory() as session:
            yield session

    @asynccontextmanager
    async def driver_read(self) -> AsyncIterator[Any]:
        """PostgreSQL only: the driver's own connection (asyncpg's) from the pool, outside any
        transaction, for reads Birge writes as plain SQL and runs often (`/search`): SQLAlchemy's
        statement building, cache key, compiling and result rows cost more than the statement's
        own work there (py-spy, bot/services/search.py)."""
        assert self._autocommit_engine is not None, "driver_read is for PostgreSQL"
        async with self._autocommit_engine.connect() as conn:
            raw = await conn.get_raw_connection()
            yield raw.driver_connection

    @asynccontextmanager
    async def driver_reads(self, n: int) -> AsyncIterator[list[Any]]:
        """`driver_read` × `n` (at most the pool's size), taken as one: one caller at a time
        takes its set, so callers that each hold some and wait for the rest never fill the pool
        between them. (Taken one by one, 20 members searching at once did, and every search
        waited out the pool's 30 s timeout.)"""
        n = max(1, min(n, self._connections))
        if self._sets_lock is None:
            self._sets_lock = asyncio.Lock()
        async with contextlib.AsyncExitStack() as stack:
            async with self._sets_lock:
                connections = [await stack.enter_async_context(self.driver_read())
                               for _ in range(n)]
            yield connections

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncSession]:
        """A session for ONE writing statement, which commits by itself: on PostgreSQL without
        BEGIN/COMMIT (one round trip instead of three); on SQLite a `transaction()`. Not for a
        handler's writes: those go through `transaction()`, which carries the update's mark."""
        if self._autocommit is None:
            async with self.transaction() as session:
                yield session
            return
        async with self._autocommit() as session:
            yield session

    async def dispose(self) -> None:
        checkpoint, self._checkpoint = self._checkpoint, None
        if checkpoint is not None and not checkpoint.done():
            checkpoint.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await checkpoint
        await self.engine.dispose()
