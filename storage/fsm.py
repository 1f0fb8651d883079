"""aiogram FSM storage in the Birge database, so a restart in the middle of a flow loses nothing.

One row per conversation key. With webhook replicas on PostgreSQL (`shared`), several may run
one member's conversation in turn, so each update reads the state from the database (once: while
its lock is held, storage/isolation.py `held` keeps what was read or saved, and an unchanged
state is not written again) and every write is committed before the update's handler returns
(its advisory lock, storage/isolation.py, is held until then): whichever replica gets the next
update reads the step the previous one wrote. On SQLite, and when polling on PostgreSQL (one
process, made sure of by storage/sole.py): reads come from memory (this process is the only one
that runs its members' conversations); writes go to the database in the background, many keys
per transaction, because a write transaction per flow step made SQLite's single writer the
bottleneck under load, and on PostgreSQL three round trips per update cost a fifth of the
throughput (scripts/bench_updates.py). `close()` — called when Birge stops — writes whatever is
pending, so a restart continues every conversation; a crash can lose only the answers of the
last few milliseconds, and the member is then asked that question again.

While an update is being handled (`storage.db.handling`), the states its handler saves wait in
that update's `Handling` and are written together with its "handled" mark (storage/inbox.py):
either with its first other transaction or when the handler returns. A crash in the middle
leaves the conversation at the step the update arrived at, and the update is handled again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import json
import logging
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from sqlalchemy import bindparam, delete, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database, Handling, handling, insert_for, table_of
from storage.isolation import held
from storage.models import FsmRecord, UpdateLog
from storage.types import utcnow

StateType = str | State | None
Entry = tuple[str | None, dict[str, Any]]

_MISSING: Entry = (None, {})
LOG = table_of(UpdateLog)
STATES = table_of(FsmRecord)
log = logging.getLogger(__name__)
# On the conversation lock's asyncpg connection (PostgreSQL), past SQLAlchemy: a read there cost
# ~170 µs of Birge's CPU and ~40 µs through asyncpg alone, an upsert in a session of its own ~360
# and ~70 µs (issue 20). SQLAlchemy's codec on its connections reads JSON as Python values and
# writes it from text (json.dumps, as its JSON type does).
_RAW_READ = "SELECT state, data FROM fsm_record WHERE key = $1"
_RAW_DROP = "DELETE FROM fsm_record WHERE key = ANY($1::varchar[])"
_RAW_PUT = ("INSERT INTO fsm_record (key, state, data, updated_at) VALUES ($1, $2, $3::json, $4) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data, "
            "updated_at = excluded.updated_at")


class SQLStorage(BaseStorage):
    def __init__(self, db: Database, shared: bool | None = None) -> None:
        self.db = db
        self.shared = db.engine.dialect.name == "postgresql" if shared is None else shared
        self.keys = DefaultKeyBuilder(with_destiny=True)
        self._cache: dict[str, Entry] = {}
        self._dirty: dict[str, Entry] = {}
        self._marks: list[int] = []  # updates handled, marked with the next write (SQLite)
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        # Built once (issue 20: building an upsert for each flow step, its `excluded` columns
        # and a cache key from every value, was most of the cost of saving a step).
        put = insert_for(db.engine.dialect.name)(STATES)
        self._put = put.on_conflict_do_update(
            index_elements=["key"],
            set_={"state": put.excluded.state, "data": put.excluded.data,
                  "updated_at": put.excluded.updated_at})
        self._drop = delete(STATES).where(STATES.c.key.in_(bindparam("keys", expanding=True)))

    async def _load(self, key: StorageKey) -> tuple[str, Entry]:
        k = self.keys.build(key)
        current = handling.get()
        found = current.conversations.get(k) if current is not None else None
        lock = held.get()
        if lock is not None and not lock.holds(k):
            lock = None
        if found is None:
            found = self._cache.get(k) if not self.shared else lock.state if lock else None
        if found is None and self.shared and lock is not None and lock.raw is not None:
            # On the lock's connection: no checkout, and no other replica can be mid-write.
            got = await lock.raw.fetchrow(_RAW_READ, k)
            found = lock.state = (got[0], dict(got[1])) if got else _MISSING
        elif found is None:
            async with self.db.read() as s:
                row = await s.get(FsmRecord, k)
                found = (row.state, dict(row.data)) if row else _MISSING
            if not self.shared:
                self._cache[k] = found
        return k, found

    async def _save(self, k: str, state: str | None, data: dict[str, Any]) -> None:
        current = handling.get()
        lock = held.get()
        if self.shared and lock is not None and lock.holds(k):
            if lock.state == (state, data) and (current is None or k not in current.conversations):
                return  # unchanged (e.g. /help clearing a conversation that had no state)
            lock.state = (state, data)
        if current is not None and not current.marked:
            current.conversations[k] = (state, data)  # written with the update's mark
            if not self.shared:
                self._cache[k] = (state, data)
            return
        if self.shared:
            self._dirty[k] = (state, data)
            await self.flush()
            return
        if self._cache.get(k) == (state, data):
            return  # e.g. /profile clearing a conversation that had no state
        self._cache[k] = (state, data)
        self._dirty[k] = (state, data)
        self._wake_writer()

    def _wake_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._wake = asyncio.Event()
            # A context of its own: the writer belongs to no update.
            self._writer = asyncio.create_task(self._write_loop(), name="fsm-writer",
                                               context=contextvars.Context())
        assert self._wake is not None
        self._wake.set()

    async def write_handled(self, session: AsyncSession, current: Handling) -> None:
        """The conversation states an update's handler saved, in the transaction that marks
        it handled. On SQLite they go to the background writer instead (in order with every
        other state; a crash may lose their last milliseconds, as above)."""
        entries, current.conversations = current.conversations, {}
        if not entries:
            return
        if self.shared:
            await self._upsert(session, entries)
        else:
            self._dirty.update(entries)
            self._wake_writer()

    async def write_handled_on(self, raw: Any, current: Handling) -> None:
        """`write_handled` on the conversation lock's asyncpg connection (PostgreSQL), inside
        the lock's transaction: it commits with the update's mark (storage/inbox.py)."""
        entries, current.conversations = current.conversations, {}
        gone, kept = _split(entries)
        if gone:
            await raw.execute(_RAW_DROP, gone)
        now = utcnow()
        rows = [(k, state, json.dumps(data), now) for k, (state, data) in kept.items()]
        if len(rows) == 1:
            await raw.execute(_RAW_PUT, *rows[0])
        elif rows:
            await raw.executemany(_RAW_PUT, rows)

    def finish_handled(self, current: Handling) -> None:
        """SQLite: an update's states and its mark, written together by the background writer."""
        entries, current.conversations = current.conversations, {}
        self._dirty.update(entries)
        self._marks.append(current.update_id)
        current.marked = True
        self._wake_writer()

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._dirty or self._marks:
                try:
                    await self.flush()
                except Exception:
                    await asyncio.sleep(1.0)
                    self._wake.set()

    async def flush(self) -> None:
        """Write every pending conversation (and the updates they finish) in one transaction."""
        batch, self._dirty = self._dirty, {}
        marks, self._marks = self._marks, []
        if not batch and not marks:
            return
        try:
            async with self.db.transaction() as s:
                await self._upsert(s, batch)
                if marks:
                    await s.exec(update(LOG).where(LOG.c.update_id.in_(marks))
                                 .values(handled_at=utcnow(), payload={}))
        except BaseException as exc:  # a failure or a cancellation: keep the answers for later
            if not isinstance(exc, asyncio.CancelledError):
                log.exception("saving %d conversations failed; will retry", len(batch))
            for k, v in batch.items():
                self._dirty.setdefault(k, v)
            self._marks[:0] = marks
            raise

    async def _upsert(self, s: AsyncSession, batch: dict[str, Entry]) -> None:
        gone, kept = _split(batch)
        if gone:
            await s.exec(self._drop, params={"keys": gone})
        now = utcnow()
        rows = [{"key": k, "state": state, "data": data, "updated_at": now}
                for k, (state, data) in kept.items()]
        if rows:
            await s.exec(self._put, params=rows)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        k, (_, data) = await self._load(key)
        value = state.state if isinstance(state, State) else state
        await self._save(k, value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        _, (state, _) = await self._load(key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        k, (state, _) = await self._load(key)
        await self._save(k, state, _own(data))

    async def set_state_and_data(
        self, key: StorageKey, state: StateType, data: Mapping[str, Any]
    ) -> None:
        """Both at once: a flow step that records an answer and moves on."""
        value = state.state if isinstance(state, State) else state
        await self._save(self.keys.build(key), value, _own(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, (_, data) = await self._load(key)
        return _own(data)

    async def close(self) -> None:
        """Write what is pending and stop the background writer."""
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
            self._writer = None
        while self._dirty or self._marks:
            await self.flush()
        self._cache.clear()


def _split(batch: dict[str, Entry]) -> tuple[list[str], dict[str, Entry]]:
    """The conversations that ended (no state, no data: their rows go) and the rest."""
    kept = {k: (state, data) for k, (state, data) in batch.items() if state is not None or data}
    return [k for k in batch if k not in kept], kept


def _own(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy no handler shares with what is stored: flows change nested values in place (a
    step of `data["lib"]`), and a stored state that changed with them would look unchanged,
    and so not be written (`_save`)."""
    return copy.deepcopy(dict(data))
