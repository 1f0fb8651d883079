"""Questions about a decision ("Ask about this" on a broadcast), answered.

Each question lands in the staff inbox (new, mine, answered). A staff member may take it or
assign it to a colleague; the answer reaches the member in the chat. A question many asked is
answered once to every recipient of that broadcast as a follow-up ("answers to your questions"),
and the open questions of that broadcast count as answered by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, notify, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import ResponseKind
from storage.models import (
    Broadcast,
    BroadcastResponse,
    DecisionFollowUp,
    DecisionQuestion,
    Member,
    Outbox,
)
from storage.types import utcnow

ANSWER_MAX = 2000
VIEWS = ("new", "mine", "answered")
OUTBOX_ANSWER = "decision_answer"
OUTBOX_FOLLOW_UP = "decision_follow_up"
OUTBOX_ASSIGNED = "decision_assigned"
PAGE = 10


async def _staff(db: Database, s: AsyncSession, actor_id: int, target: int | None = None
                 ) -> policy.Actor:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_answer_decision_question(actor),
                        policy.Action.ANSWER_DECISION_QUESTION, target)
    return actor


def track(s: AsyncSession, response: BroadcastResponse) -> None:
    """Called by `broadcasts.ask_about` in its transaction: the question enters the inbox."""
    assert response.id is not None
    s.add(DecisionQuestion(response_id=response.id, broadcast_id=response.broadcast_id))


async def _question(s: AsyncSession, response_id: int) -> DecisionQuestion:
    found = await s.get(DecisionQuestion, response_id)
    if found is None:
        raise NotFound(what="question")
    return found


@dataclass(frozen=True)
class InboxItem:
    response_id: int
    broadcast_id: int
    broadcast_title: str
    member_name: str
    text: str
    asked_at: datetime
    assigned_to: str | None
    answer: str | None


async def inbox(db: Database, actor_id: int, view: str, page: int = 0
                ) -> tuple[list[InboxItem], int]:
    """One page of the inbox and the number of questions in this view."""
    if view not in VIEWS:
        raise InvalidInput("inbox_view")
    async with db.read() as s:
        await _staff(db, s, actor_id)
        answered = col(DecisionQuestion.answered_at)
        where: list[Any] = [answered.is_(None) if view != "answered" else answered.is_not(None)]
        if view == "mine":
            where.append(DecisionQuestion.assigned_to_id == actor_id)
        total = (await s.exec(select(func.count()).select_from(DecisionQuestion)
                              .where(*where))).one()
        rows = (await s.exec(
            select(DecisionQuestion, BroadcastResponse, Broadcast, Member)
            .join(BroadcastResponse,
                  col(BroadcastResponse.id) == DecisionQuestion.response_id)
            .join(Broadcast, col(Broadcast.id) == DecisionQuestion.broadcast_id)
            .join(Member, col(Member.id) == BroadcastResponse.member_id)
            .where(*where).order_by(col(BroadcastResponse.created_at).desc(),
                                    col(BroadcastResponse.id).desc())
            .offset(page * PAGE).limit(PAGE))).all()
        assignees = {m.id: m.full_name for m in (await s.exec(select(Member).where(col(
            Member.id).in_({q.assigned_to_id for q, *_ in rows if q.assigned_to_id})))).all()}
    return [InboxItem(q.response_id, q.broadcast_id, b.title, m.full_name, r.text or "",
                      r.created_at, assignees.get(q.assigned_to_id) if q.assigned_to_id
                      else None, q.answer) for q, r, b, m in rows], int(total)


async def item(db: Database, actor_id: int, response_id: int) -> InboxItem:
    async with db.read() as s:
        await _staff(db, s, actor_id, response_id)
        q = await _question(s, response_id)
        r = await s.get(BroadcastResponse, response_id)
        b = await s.get(Broadcast, q.broadcast_id)
        assert r is not None and b is not None
        m = await s.get(Member, r.member_id)
        who = await s.get(Member, q.assigned_to_id) if q.assigned_to_id else None
    return InboxItem(response_id, q.broadcast_id, b.title, m.full_name if m else "—",
                     r.text or "", r.created_at, who.full_name if who else None, q.answer)


async def assign(db: Database, actor_id: int, response_id: int, to_id: int) -> None:
    """Give the question to a colleague (or take it: `to_id` == `actor_id`)."""
    async with db.transaction() as s:
        await _staff(db, s, actor_id, response_id)
        q = await _question(s, response_id)
        if q.answered_at is not None:
            raise InvalidState("question_answered_already")
        colleague = await policy.load_actor(s, to_id)
        if not colleague.is_staff:
            raise InvalidInput("inbox_colleague")
        q.assigned_to_id = to_id
        if to_id != actor_id:
            notify.enqueue(s, to_id, OUTBOX_ASSIGNED, response_id=response_id)
        audit.record(s, actor_id, "decision_question_assigned", "broadcast_response",
                     response_id, payload={"to": to_id})


async def check_open(db: Database, actor_id: int, response_id: int) -> None:
    async with db.read() as s:
        await _staff(db, s, actor_id, response_id)
        if (await _question(s, response_id)).answered_at is not None:
            raise InvalidState("question_answered_already")


async def answer(db: Database, actor_id: int, response_id: int, text: str) -> None:
    """The reply reaches the member; a question a colleague answered meanwhile is refused."""
    reply = (text or "").strip()
    if not 2 <= len(reply) <= ANSWER_MAX:
        raise InvalidInput("reply_length", limit=ANSWER_MAX)
    async with db.transaction() as s:
        await _staff(db, s, actor_id, response_id)
        q = await _question(s, response_id)
        if q.answered_at is not None:
            raise InvalidState("question_answered_already")
        r = await s.get(BroadcastResponse, response_id)
        assert r is not None
        q.answer, q.answered_by_id, q.answered_at = reply, actor_id, utcnow()
        q.assigned_to_id = q.assigned_to_id or actor_id
        notify.enqueue(s, r.member_id, OUTBOX_ANSWER, response_id=response_id)
        audit.record(s, actor_id, "decision_question_answered", "broadcast_response",
                     response_id)


async def follow_up(db: Database, actor_id: int, broadcast_id: int, text: str) -> int:
    """One answer to every recipient of the broadcast ("answers to your questions"); the open
    questions about it count as answered. Returns how many members it goes to."""
    reply = (text or "").strip()
    if not 2 <= len(reply) <= ANSWER_MAX:
        raise InvalidInput("reply_length", limit=ANSWER_MAX)
    async with db.transaction() as s:
        await _staff(db, s, actor_id, broadcast_id)
        if await s.get(Broadcast, broadcast_id) is None:
            raise NotFound(what="broadcast")
        recipients = sorted({m for m in (await s.exec(select(Outbox.member_id).where(
            Outbox.broadcast_id == broadcast_id))).all() if m is not None})
        row = DecisionFollowUp(broadcast_id=broadcast_id, text=reply, by_id=actor_id,
                               recipients=len(recipients))
        s.add(row)
        await s.flush()
        now = utcnow()
        for q in (await s.exec(select(DecisionQuestion).where(
                DecisionQuestion.broadcast_id == broadcast_id,
                col(DecisionQuestion.answered_at).is_(None)))).all():
            q.answer, q.answered_by_id, q.answered_at, q.follow_up_id = (
                reply, actor_id, now, row.id)
        await notify.enqueue_many(s, recipients,
                                  OUTBOX_FOLLOW_UP, follow_up_id=row.id)
        audit.record(s, actor_id, "decision_follow_up", "broadcast", broadcast_id,
                     payload={"recipients": len(recipients)})
        return len(recipients)


async def for_notice(db: Database, response_id: int
                     ) -> tuple[DecisionQuestion, BroadcastResponse, Broadcast] | None:
    async with db.read() as s:
        q = await s.get(DecisionQuestion, response_id)
        r = await s.get(BroadcastResponse, response_id)
        if q is None or r is None:
            return None
        b = await s.get(Broadcast, q.broadcast_id)
        return (q, r, b) if b else None


async def follow_up_notice(db: Database, follow_up_id: int
                           ) -> tuple[DecisionFollowUp, Broadcast] | None:
    async with db.read() as s:
        f = await s.get(DecisionFollowUp, follow_up_id)
        b = await s.get(Broadcast, f.broadcast_id) if f else None
        return (f, b) if f and b else None


async def asked_count(db: Database, broadcast_id: int) -> int:
    async with db.read() as s:
        return int((await s.exec(select(func.count()).select_from(BroadcastResponse).where(
            BroadcastResponse.broadcast_id == broadcast_id,
            BroadcastResponse.kind == ResponseKind.QUESTION))).one())


async def colleagues(db: Database, actor_id: int) -> list[tuple[int, str]]:
    """The Union staff a question may be assigned to."""
    from storage.enums import MemberStatus, Role
    from storage.models import RoleAssignment

    async with db.read() as s:
        await _staff(db, s, actor_id)
        rows = (await s.exec(select(Member.id, Member.full_name)
                             .join(RoleAssignment, col(RoleAssignment.member_id) == Member.id)
                             .where(RoleAssignment.role == Role.UNION_STAFF,
                                    Member.status == MemberStatus.ACTIVE)
                             .order_by(col(Member.full_name)).limit(40))).all()
    return [(int(i), str(n)) for i, n in rows if i is not None]
