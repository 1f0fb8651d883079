"""The organiser's participant list, live: the message where an organiser last opened an
event's list is edited by itself when someone registers, cancels or moves up from the waiting
list — through the outbox, as any message to someone other than the acting member.

Edits are coalesced per organiser and event: `list_changed` (called in the transaction of the
change) queues an edit only when none is queued for later, and queues it at least `EDIT_EVERY`
after the previous one, claiming the slot with a conditional update. The edit reads the list
when it is sent, so a burst of 200 registrations becomes one edit now and one a few seconds
later showing all of them, never 200 edits. Going back to the event's card in that message ends
the watch (`unwatch`); an edit for a message that is no longer the watched one is dropped by its
renderer."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import notify, policy
from storage.db import Database
from storage.models import Event, EventListWatch
from storage.types import utcnow

EDIT_EVERY = timedelta(seconds=5)
ID_LIMIT = 2**31  # ids are INTEGER columns (32 bits on PostgreSQL)


async def watch(db: Database, actor_id: int, event_id: int, message_id: int) -> None:
    """The organiser opened the participant list in this message: keep it current."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        event = await s.get(Event, event_id) if 0 < event_id < ID_LIMIT else None
        if event is None or not policy.can_organise_event(actor, event.created_by_id):
            await policy.ensure(db, actor, False, policy.Action.VIEW_EVENT_REPORT,
                                event_id if 0 < event_id < ID_LIMIT else None)
        # One list per message: another event's list shown here before is no longer watched.
        await s.exec(delete(EventListWatch).where(
            col(EventListWatch.member_id) == actor_id,
            col(EventListWatch.message_id) == message_id,
            col(EventListWatch.event_id) != event_id))
        row = (await s.exec(select(EventListWatch).where(
            EventListWatch.event_id == event_id,
            EventListWatch.member_id == actor_id))).first()
        if row is None:
            s.add(EventListWatch(event_id=event_id, member_id=actor_id, message_id=message_id))
        elif row.message_id != message_id:
            row.message_id = message_id
            row.opened_at = utcnow()
            s.add(row)


async def unwatch(db: Database, actor_id: int, message_id: int) -> None:
    """This message no longer shows a participant list (the organiser went back)."""
    async with db.transaction() as s:
        await s.exec(delete(EventListWatch).where(
            col(EventListWatch.member_id) == actor_id,
            col(EventListWatch.message_id) == message_id))


async def watched_message(db: Database, member_id: int, event_id: int) -> int | None:
    async with db.read() as s:
        return (await s.exec(select(EventListWatch.message_id).where(
            EventListWatch.event_id == event_id,
            EventListWatch.member_id == member_id))).first()


async def list_changed(s: AsyncSession, event_id: int, now: datetime | None = None) -> int:
    """Queue an edit of every open list of this event, at most one per `EDIT_EVERY` per
    organiser (in the caller's transaction). Returns how many were queued."""
    now = now or utcnow()
    rows = (await s.exec(select(EventListWatch.id, EventListWatch.member_id,
                                EventListWatch.message_id, EventListWatch.edit_due_at)
                         .where(EventListWatch.event_id == event_id))).all()
    queued = 0
    for watch_id, member_id, message_id, due_before in rows:
        if due_before is not None and due_before > now:
            continue  # an edit is queued for later: it will read this change too
        due = now if due_before is None else max(now, due_before + EDIT_EVERY)
        claimed = await s.exec(update(EventListWatch).where(
            col(EventListWatch.id) == watch_id,
            or_(col(EventListWatch.edit_due_at).is_(None),
                col(EventListWatch.edit_due_at) <= now)).values(edit_due_at=due))
        if not claimed.rowcount:
            continue  # another change claimed it at the same moment
        notify.enqueue(s, member_id, "event_list_live", not_before=due if due > now else None,
                       urgent=True, event_id=event_id, message_id=message_id)
        queued += 1
    return queued
