"""Writing notifications into the transactional outbox.

A service that must tell someone other than the acting member calls `enqueue` inside its own
transaction; the row commits with the change or not at all. The delivery worker renders the row in
the recipient's language when it sends it. Listeners registered with `on_commit` (the worker's
wake-up) run after a transaction that enqueued something commits.

A row may name its `category` (a `NoticeCategory` the member can switch off in /settings) and be
`urgent` (never muted, never held by quiet hours); the worker applies both when it sends.

A notice with decision buttons (Approve / Reject, Take the case) goes to several people; when one
of them decides, the service calls `settle` in the same transaction: every other copy already
sent is edited to the verdict (a "settled" row per copy, rendered in that reader's language), so
no copy keeps live buttons. A copy not sent yet is dropped by its own renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import OutboxStatus
from storage.models import Outbox
from storage.types import utcnow

_FLAG = "birge_outbox_written"
_listeners: list[Callable[[], None]] = []

SETTLE_DELAY_SECONDS = 1.0
PRIORITY_PERSONAL = 0
PRIORITY_URGENT = 5
PRIORITY_BULK = 10

# Categories of kinds enqueued without one (rows written by bulk statements, older kinds).
# Moderation notices (hidden content) and reminders of work waiting have no category: they go.
KIND_CATEGORY: dict[str, str] = {
    "broadcast": "broadcasts",
    "question_new": "questions",
    "question_answered": "answers", "answer_accepted": "answers",
    "question_follow_up": "answers", "question_resolved": "answers",
    "question_duplicate": "answers",
    "issue_state": "national", "issue_raised": "national",
    "event_invite": "events",
    **{kind: "legal" for kind in (
        "legal_new", "legal_taken", "legal_assigned", "legal_info", "legal_reply",
        "legal_answer", "legal_closed", "legal_reopened")},
}
# Answers to the recipient's own request, and the digest at the hour they chose themselves: these
# go at once, whatever the hour.
PROMPT_KINDS: set[str] = {"member_approved", "member_rejected", "broadcast_decided", "digest",
                          "settled"}


def category_of(kind: str, payload: dict[str, Any]) -> str | None:
    found = payload.get("category") or KIND_CATEGORY.get(kind)
    return str(found) if found else None


def is_urgent(kind: str, payload: dict[str, Any]) -> bool:
    return bool(payload.get("urgent")) or kind in PROMPT_KINDS


def on_commit(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after every commit that wrote outbox rows; returns an unsubscriber."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        for listener in list(_listeners):
            listener()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


def enqueue(
    session: AsyncSession,
    member_id: int,
    kind: str,
    *,
    priority: int = PRIORITY_PERSONAL,
    not_before: datetime | None = None,
    category: str | None = None,
    urgent: bool = False,
    **payload: Any,
) -> Outbox:
    if category is not None:
        payload["category"] = str(category)
    if urgent:
        payload["urgent"] = True
    row = Outbox(
        member_id=member_id, kind=kind, payload=payload, priority=priority, not_before=not_before
    )
    session.add(row)
    session.sync_session.info[_FLAG] = True
    return row


async def enqueue_many(session: AsyncSession, member_ids: Iterable[int], kind: str, *,
                       priority: int = PRIORITY_BULK, **payload: Any) -> int:
    """The same notice to many members, written by bulk statements; returns how many."""
    now = utcnow()
    rows = [{"member_id": m, "kind": kind, "priority": priority, "payload": payload,
             "status": OutboxStatus.PENDING.value, "attempts": 0, "created_at": now}
            for m in member_ids]
    for start in range(0, len(rows), 1000):
        await session.exec(insert(Outbox).values(rows[start:start + 1000]))
    if rows:
        mark_written(session)
    return len(rows)


def enqueue_chat(session: AsyncSession, chat_id: int, kind: str, **payload: Any) -> Outbox:
    """A message to a chat that is no member's (the forum supergroup)."""
    row = Outbox(chat_id=chat_id, kind=kind, payload=payload, priority=PRIORITY_PERSONAL)
    session.add(row)
    session.sync_session.info[_FLAG] = True
    return row


def mark_written(session: AsyncSession) -> None:
    """Outbox rows were written by a bulk statement: wake the worker after the commit."""
    session.sync_session.info[_FLAG] = True


async def settle(session: AsyncSession, kind: str, key: str, value: int, *, verdict: str,
                 actor_id: int | None = None, **args: Any) -> int:
    """Edit every sent copy of the `kind` notices whose payload has `key` == `value` (one
    decision's notices) to `verdict` (a code `bot.delivery.notices.settled` knows, with `args`),
    except the copy of `actor_id`, whose screen the handler edits itself. Returns how many."""
    live = (OutboxStatus.SENT.value, OutboxStatus.SENDING.value)
    rows = (await session.exec(
        select(Outbox).where(Outbox.kind == kind, col(Outbox.status).in_(live)))).all()
    # A copy being sent right now learns its message id when the worker records it (a fraction
    # of a second): the edit waits a moment and reads it then (`source_id`).
    later = utcnow() + timedelta(seconds=SETTLE_DELAY_SECONDS)
    count = 0
    for row in rows:
        if row.payload.get(key) != value or row.member_id is None or row.member_id == actor_id:
            continue
        enqueue(session, row.member_id, "settled", not_before=later, source_id=row.id,
                verdict=verdict, **args)
        count += 1
    return count
