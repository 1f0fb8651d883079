"""Updates are written down before Telegram forgets them, and handled once, also across a crash.

Telegram forgets an update once Birge confirms it: polling confirms with the next getUpdates
offset, a webhook with its 200 — both while the handler may still be running. So each update is
first written to `update_log` (one multi-row INSERT per getUpdates answer, one per webhook call),
claimed for `claim_seconds` by the process that received it; that process renews its claims while
it handles them. The update is marked handled in the same transaction as its handler's first
write (storage/db.py `handling`), and the conversation states its handler saved go with that
mark (storage/fsm.py): a crash before leaves nothing of it, a crash after does not repeat it. On
PostgreSQL an update whose handler wrote nothing else is marked, with the states it saved, in its
conversation lock's transaction (storage/isolation.py), which commits as the lock is released.

On start, and every third of `claim_seconds`, a process takes over the unhandled updates whose
claim has run out (its own predecessor's after a crash, or another replica's) and handles them.
A claim is taken with a conditional UPDATE, so two replicas never take the same row. On SQLite
only one process runs Birge, so at start it takes every unhandled row at once.

A handled update keeps only its id (to know a repeat): its payload — a member's words and name —
is dropped when it is marked, so a deleted account leaves nothing of itself here.

An update that arrives again (Telegram re-sends what was not confirmed before a crash, or retries
a webhook) is found in the log and not handled a second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database, Handling, insert_for, table_of
from storage.fsm import SQLStorage
from storage.isolation import held
from storage.models import UpdateLog
from storage.types import utcnow

JSON = dict[str, Any]
TAKE_AT_ONCE = 100
LOG = table_of(UpdateLog)


class Inbox:
    def __init__(self, db: Database, storage: SQLStorage, claim_seconds: float = 30.0) -> None:
        self.db = db
        self.storage = storage
        self.claim = timedelta(seconds=claim_seconds)
        self.sqlite = db.engine.dialect.name == "sqlite"
        self.in_hand: dict[int, Handling] = {}
        self.repeated: set[int] = set()  # arrived again: already logged, not handled twice
        self._started = False
        self._record = (insert_for(db.engine.dialect.name)(LOG)
                        .on_conflict_do_nothing(index_elements=["update_id"])
                        .returning(LOG.c.update_id))

    def _handling(self, update_id: int) -> Handling:
        found = self.in_hand.get(update_id)
        if found is None:
            found = self.in_hand[update_id] = Handling(update_id, self._write)
        return found

    async def record(self, updates: Iterable[JSON]) -> list[int]:
        """Log updates as they arrive (one statement); the ids that are new."""
        now = utcnow()
        rows = [{"update_id": u["update_id"], "payload": u, "received_at": now,
                 "claimed_until": now + self.claim} for u in updates]
        if not rows:
            return []
        async with self.db.statement() as s:
            # One multi-row INSERT (SQLAlchemy's "insertmanyvalues"), from a statement built
            # once: building `.values(rows)` anew made a cache key of every row's values.
            new = set((await s.exec(self._record, params=rows)).scalars().all())
        for row in rows:
            update_id = row["update_id"]
            if update_id in new:
                self._handling(update_id)
            else:  # handled, or handled by whoever took it over: never by this copy
                self.repeated.add(update_id)
        return sorted(new)

    def begin(self, update_id: int) -> Handling | None:
        """The update's `Handling` if this process logged it; None for one fed from elsewhere
        (tests) — and for a repeat, which `is_repeat` tells apart."""
        return self.in_hand.get(update_id)

    def is_repeat(self, update_id: int) -> bool:
        if update_id in self.repeated:
            self.repeated.discard(update_id)
            return True
        return False

    async def _write(self, session: AsyncSession, current: Handling) -> None:
        await session.exec(update(LOG).where(LOG.c.update_id == current.update_id)
                           .values(handled_at=utcnow(), payload={}))
        await self.storage.write_handled(session, current)

    async def finish(self, current: Handling) -> None:
        """The handler returned (or failed and was answered): mark it, if not yet marked."""
        try:
            if current.marked:
                return
            lock = held.get()
            if not self.storage.shared:
                self.storage.finish_handled(current)  # with the states, by the writer
            elif lock is not None and lock.raw is not None:
                # In the conversation lock's transaction: it commits when the lock is released
                # (storage/isolation.py), two round trips fewer than a transaction of its own.
                # The states the handler saved are written now; the mark is sent with the
                # COMMIT (plain SQL: the id is an int), so both commit together.
                if current.conversations:
                    await self.storage.write_handled_on(lock.raw, current)
                lock.with_commit.append(
                    f"UPDATE {LOG.name} SET handled_at = clock_timestamp(), payload = '{{}}' "
                    f"WHERE update_id = {int(current.update_id)}")
                current.marked = True
            else:
                async with self.db.transaction() as s:
                    await self._write(s, current)
                current.marked = True
        finally:
            self.in_hand.pop(current.update_id, None)

    def drop(self, update_id: int) -> None:
        """Birge is stopping mid-handler: the update stays unhandled for the next start."""
        self.in_hand.pop(update_id, None)

    async def renew(self) -> None:
        """Keep the claims on the updates in hand."""
        ids = list(self.in_hand)
        if not ids:
            return
        async with self.db.transaction() as s:
            await s.exec(update(UpdateLog)
                         .where(col(UpdateLog.update_id).in_(ids),
                                col(UpdateLog.handled_at).is_(None))
                         .values(claimed_until=utcnow() + self.claim))

    async def take_over(self) -> list[JSON]:
        """Claim unhandled updates whose claim ran out (on SQLite's first call: all of them);
        their payloads, oldest first."""
        now = utcnow()
        everything = self.sqlite and not self._started
        self._started = True
        query = select(UpdateLog.update_id).where(col(UpdateLog.handled_at).is_(None))
        if not everything:
            query = query.where(col(UpdateLog.claimed_until) < now)
        async with self.db.read() as s:
            ids = [i for i in (await s.exec(query.order_by(col(UpdateLog.update_id))
                                            .limit(TAKE_AT_ONCE))).all()
                   if i not in self.in_hand]
        taken: list[JSON] = []
        for update_id in ids:
            async with self.db.transaction() as s:
                claim = (update(UpdateLog)
                         .where(col(UpdateLog.update_id) == update_id,
                                col(UpdateLog.handled_at).is_(None))
                         .values(claimed_until=now + self.claim)
                         .returning(col(UpdateLog.payload)))
                if not everything:
                    claim = claim.where(col(UpdateLog.claimed_until) < now)
                payload = (await s.exec(claim)).scalar_one_or_none()
            if payload is not None:
                self._handling(update_id)
                taken.append(payload)
        return taken


async def unhandled(db: Database) -> list[int]:
    """Ids of the logged updates not marked handled (tests, diagnostics)."""
    async with db.read() as s:
        return list((await s.exec(select(UpdateLog.update_id)
                                  .where(col(UpdateLog.handled_at).is_(None))
                                  .order_by(col(UpdateLog.update_id)))).all())


async def prune_batch(db: Database, cutoff: Any, batch: int) -> int:
    """Delete up to `batch` updates received before `cutoff` (handled, or given up on)."""
    async with db.transaction() as s:
        ids = list((await s.exec(select(UpdateLog.update_id)
                                 .where(col(UpdateLog.received_at) < cutoff)
                                 .order_by(col(UpdateLog.update_id)).limit(batch))).all())
        if ids:
            await s.exec(delete(UpdateLog).where(col(UpdateLog.update_id).in_(ids)))
        return len(ids)
