"""SQLAlchemy's aiosqlite adapter, with one trip to the database thread per statement.

aiosqlite runs each SQLite connection in a thread of its own; every call to it is a trip there
and back (a queue put, a wake-up of the event loop). SQLAlchemy's adapter makes four per
statement (open a cursor, execute, fetch the rows, close the cursor) and one more for each
ROLLBACK, which its pool also sends when a read session gives its connection back: a read
session with one SELECT made six trips. Measured with one `session.get` per read session
(uvloop, this machine): 490 µs of CPU, of which the trips were about a third; the same SELECT
straight on the SQLite connection takes 7 µs. Under scripts/bench_surveys.py these trips were
the largest single cost on the event loop after aiogram itself.

Here a statement is one trip: the thread opens the cursor, executes, fetches every row (the
adapter buffered them all anyway) and closes it, and hands back the rows with the cursor's
description, rowcount and lastrowid. COMMIT and ROLLBACK make no trip when the connection has
no transaction open (SQLite's driver opens one only before a write, so a read session never
has one). Behaviour is otherwise SQLAlchemy's: the same dialect ("sqlite", "aiosqlite"), the
same errors, server-side cursors (`stream`) unchanged.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


class _Finished:
    """What SQLAlchemy reads from a cursor after its statement ran."""

    __slots__ = ("description", "lastrowid", "rowcount")

    def __init__(self, description: Any = None, rowcount: int = -1,
                 lastrowid: int | None = None) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    arraysize = 1  # read by fetchmany() without a size


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Finished()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        conn = self._connection

        def run() -> tuple[Any, int, int | None, list[Any] | None]:
            cur = conn._conn.cursor()
            try:
                if parameters is None:
                    cur.execute(operation)
                else:
                    cur.execute(operation, parameters)
                rows = cur.fetchall() if cur.description else None
                return cur.description, cur.rowcount, cur.lastrowid, rows
            finally:
                cur.close()

        async with self._adapt_connection._execute_mutex:
            description, rowcount, lastrowid, rows = await conn._execute(run)
        self._cursor = _Finished(description, rowcount, lastrowid)  # type: ignore[assignment]
        if rows is not None:
            self._rows = collections.deque(rows)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        conn = self._connection

        def run() -> tuple[int, int | None]:
            cur = conn._conn.cursor()
            try:
                cur.executemany(operation, seq_of_parameters)
                return cur.rowcount, cur.lastrowid
            finally:
                cur.close()

        async with self._adapt_connection._execute_mutex:
            rowcount, lastrowid = await conn._execute(run)
        self._cursor = _Finished(None, rowcount, lastrowid)  # type: ignore[assignment]
        return None

    async def _async_soft_close(self) -> None:
        return None  # nothing is open: the statement's cursor was closed in the thread

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneTripCursor

    def _open_transaction(self) -> bool:
        raw = self._connection._connection
        return raw is not None and raw.in_transaction

    def rollback(self) -> None:
        if self._open_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._open_transaction():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        made = super().connect(*arg, **kw)
        return OneTripConnection(self, made._connection)


def dbapi() -> OneTripDBAPI:
    """The DB-API module for `create_async_engine(..., module=dbapi())`."""
    import sqlite3

    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
