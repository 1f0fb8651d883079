"""The update log (storage/inbox.py): an update a crash cut short is taken over by exactly one
process once its claim runs out, an update that arrives again is not handled twice, and the
daily pruning deletes old rows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage import inbox
from storage.db import Database, handling
from storage.fsm import SQLStorage
from storage.inbox import Inbox
from storage.models import FsmRecord
from storage.types import utcnow


async def _row(db: Database, key: str) -> tuple[str | None, dict[str, object]] | None:
    async with db.read() as s:
        row = await s.get(FsmRecord, key)
        return (row.state, dict(row.data)) if row else None


def _update(update_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"message_id": 1, "date": 0,
                                                "chat": {"id": 7, "type": "private"},
                                                "text": f"update {update_id}"}}


async def test_a_dead_processs_update_is_taken_over_by_one_of_two_replicas(db: Database) -> None:
    dead = Inbox(db, SQLStorage(db, shared=True), claim_seconds=4)  # room for a slow machine
    assert await dead.record([_update(1), _update(2)]) == [1, 2]
    first = dead.begin(1)
    assert first is not None
    await dead.finish(first)  # handled; update 2 was in hand when the process died
    assert await inbox.unhandled(db) == [2]

    a = Inbox(db, SQLStorage(db, shared=True), claim_seconds=5)
    b = Inbox(db, SQLStorage(db, shared=True), claim_seconds=5)
    a._started = b._started = True  # replicas already running: only expired claims are taken
    assert await a.take_over() == [] and await b.take_over() == []  # the claim still holds
    await asyncio.sleep(4.1)
    taken = await asyncio.gather(a.take_over(), b.take_over())
    assert sorted(len(t) for t in taken) == [0, 1]
    assert [u["update_id"] for t in taken for u in t] == [2]


async def test_an_update_that_arrives_again_is_not_handled_twice(db: Database) -> None:
    box = Inbox(db, SQLStorage(db, shared=True))
    assert await box.record([_update(5)]) == [5]
    current = box.begin(5)
    assert current is not None
    await box.finish(current)
    assert await box.record([_update(5), _update(6)]) == [6]
    assert box.is_repeat(5) and not box.is_repeat(6)

    # Unhandled when the process died; the next one takes it over, and Telegram sends it again
    # as well: the copy that came again is not handled (the taken-over one is).
    sixth = box.begin(6)
    assert sixth is not None
    await box.finish(sixth)
    dead = Inbox(db, SQLStorage(db, shared=True), claim_seconds=1)
    assert await dead.record([_update(7)]) == [7]
    await asyncio.sleep(1.1)
    after_crash = Inbox(db, SQLStorage(db, shared=True))
    assert [u["update_id"] for u in await after_crash.take_over()] == [7]
    assert await after_crash.record([_update(7)]) == []
    assert after_crash.is_repeat(7) and after_crash.begin(7) is not None


async def test_the_mark_commits_with_the_handlers_first_write_and_its_states(
    db: Database
) -> None:
    """A conversation step saved while handling waits for the update's mark; a rolled-back
    write marks nothing."""
    storage = SQLStorage(db, shared=True)
    box = Inbox(db, storage)
    await box.record([_update(9)])
    current = box.begin(9)
    assert current is not None
    token = handling.set(current)
    try:
        await storage._save("chat:7", "Ask:text", {"group": 1})
        assert await _row(db, "chat:7") is None  # not written yet
        try:
            async with db.transaction():
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        assert await inbox.unhandled(db) == [9] and not current.marked
        async with db.transaction():
            pass  # the handler's first write
    finally:
        handling.reset(token)
    assert current.marked and await inbox.unhandled(db) == []
    assert await _row(db, "chat:7") == ("Ask:text", {"group": 1})


async def test_pruning_deletes_updates_older_than_their_age(db: Database) -> None:
    box = Inbox(db, SQLStorage(db, shared=True))
    await box.record([_update(11), _update(12)])
    assert await inbox.prune_batch(db, utcnow() - timedelta(days=1), 100) == 0
    assert await inbox.prune_batch(db, utcnow() + timedelta(seconds=1), 100) == 2
    assert await inbox.unhandled(db) == []
