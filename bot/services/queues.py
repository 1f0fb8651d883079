"""The morning summary of waiting work: to each moderator (and, once legal cases land, each
lawyer) what waits for them — only when something does.

Like the digest it is a registry of sections (`@queue_section`); each returns, per member, what
waits. Moderators' unanswered questions are here; the integrator registers the lawyers' overdue
cases section (`"overdue_cases"`) with the legal-cases feature, and its heading in
`bot.views.digests.HEADINGS`. `MemberSettings.last_queues_at` is moved by a conditional update
with the outbox rows, so one morning's summary goes out once however many runs there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import col, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import notify
from bot.services.digests import SECTION_ITEMS, DigestItem, Found, snippet
from storage.db import Database
from storage.enums import (
    DigestFrequency,
    LegalStatus,
    MemberStatus,
    OutboxStatus,
    QuestionStatus,
    Role,
)
from storage.models import (
    GroupModerator,
    LegalCase,
    Member,
    MemberSettings,
    Outbox,
    Question,
    RoleAssignment,
    TopicGroup,
)
from storage.types import utcnow

OUTBOX_KIND = "queues_summary"


@dataclass(frozen=True)
class QueueContext:
    session: AsyncSession
    now: datetime
    # How long something must have waited to count as waiting.
    waiting: timedelta
    # A legal case is overdue once its first response is this late.
    legal_first_response: timedelta = timedelta(hours=48)


QueueCollector = Callable[[QueueContext], Awaitable[dict[int, Found]]]
QUEUE_SECTIONS: dict[str, tuple[int, QueueCollector]] = {}


def queue_section(code: str, order: int) -> Callable[[QueueCollector], QueueCollector]:
    """Register a queues-summary section (its heading goes in `bot.views.digests.HEADINGS`)."""

    def register(collect: QueueCollector) -> QueueCollector:
        QUEUE_SECTIONS[code] = (order, collect)
        return collect

    return register


@queue_section("waiting_questions", 10)
async def waiting_questions(ctx: QueueContext) -> dict[int, Found]:
    """Open questions older than the waiting time in the groups each moderator moderates."""
    rows = await ctx.session.exec(
        select(GroupModerator.member_id, Question.id, Question.group_id, Question.text,  # type: ignore[call-overload]
               Question.created_at)
        .join(Question, col(Question.group_id) == GroupModerator.group_id)
        .join(TopicGroup, col(TopicGroup.id) == Question.group_id)
        .where(Question.status == QuestionStatus.OPEN,
               col(Question.created_at) <= ctx.now - ctx.waiting,
               col(TopicGroup.archived_at).is_(None))
        .order_by(col(Question.created_at)))
    result: dict[int, Found] = defaultdict(Found)
    for member_id, qid, group_id, text, created_at in rows.all():
        found = result[member_id]
        found.count += 1
        if len(found.items) < SECTION_ITEMS:
            found.items.append(DigestItem(f"Q-{qid}", snippet(text), group_id, created_at,
                                          "asked"))
    return dict(result)


@queue_section("overdue_cases", 20)
async def overdue_cases(ctx: QueueContext) -> dict[int, Found]:
    """Legal cases past their first-response time: to the assigned lawyer, or to every lawyer
    while nobody has taken the case."""
    late = ctx.now - ctx.legal_first_response
    cases = (await ctx.session.exec(
        select(LegalCase).where(col(LegalCase.status).in_([LegalStatus.NEW,
                                                          LegalStatus.IN_PROGRESS]),
                                col(LegalCase.first_response_at).is_(None),
                                col(LegalCase.created_at) <= late)
        .order_by(col(LegalCase.created_at)))).all()
    if not cases:
        return {}
    lawyers = sorted(set((await ctx.session.exec(select(RoleAssignment.member_id).where(
        RoleAssignment.role == Role.EXPERT))).all()))
    result: dict[int, Found] = defaultdict(Found)
    for case in cases:
        for member_id in [case.assignee_id] if case.assignee_id else lawyers:
            found = result[member_id]
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"L-{case.id}", snippet(case.summary), None,
                                              case.created_at, "opened"))
    return dict(result)


def morning_slot(now: datetime, tz: ZoneInfo, hour: int) -> datetime:
    local = now.astimezone(tz)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return slot.astimezone(now.tzinfo)


async def send_queue_summaries(db: Database, now: datetime, tz: ZoneInfo, hour: int,
                               waiting: timedelta,
                               legal_first_response: timedelta = timedelta(hours=48)) -> int:
    """Enqueue this morning's summaries; returns how many members got one."""
    slot = morning_slot(now, tz, hour)
    async with db.read() as s:
        per_member: dict[int, list[tuple[str, Found]]] = defaultdict(list)
        for code, (_, collect) in sorted(QUEUE_SECTIONS.items(), key=lambda kv: kv[1][0]):
            for member_id, found in (await collect(QueueContext(s, now, waiting,
                                                                   legal_first_response))).items():
                if found.count:
                    per_member[member_id].append((code, found))
        if not per_member:
            return 0
        active = set((await s.exec(select(Member.id).where(
            col(Member.id).in_(list(per_member)), Member.status == MemberStatus.ACTIVE,
            col(Member.reachable)))).all())
    targets = [m for m in sorted(per_member) if m in active]
    if not targets:
        return 0
    async with db.transaction() as s:
        have = set((await s.exec(select(MemberSettings.member_id).where(
            col(MemberSettings.member_id).in_(targets)))).all())
        missing = [m for m in targets if m not in have]
        if missing:
            await s.exec(insert(MemberSettings).values([
                {"member_id": m, "digest_frequency": DigestFrequency.WEEKLY.value,
                 "digest_weekday": 0, "digest_hour": 9, "quiet_hours": True, "muted": [],
                 "updated_at": utcnow()} for m in missing]))
        conn = await s.connection()
        won = set((await conn.execute(
            update(MemberSettings)
            .where(col(MemberSettings.member_id).in_(targets),
                   or_(col(MemberSettings.last_queues_at).is_(None),
                       col(MemberSettings.last_queues_at) < slot))
            .values(last_queues_at=slot)
            .returning(col(MemberSettings.member_id)))).scalars().all())
        rows: list[dict[str, Any]] = []
        for member_id in targets:
            if member_id not in won:
                continue
            sections = [{"code": code, "count": f.count,
                         "items": [i.as_json() for i in f.items],
                         "more": f.count - len(f.items), "continued": False}
                        for code, f in per_member[member_id]]
            rows.append({"member_id": member_id, "kind": OUTBOX_KIND,
                         "payload": {"frequency": "queues", "part": 1, "parts": 1,
                                     "sections": sections},
                         "priority": notify.PRIORITY_PERSONAL, "attempts": 0,
                         "status": OutboxStatus.PENDING.value, "created_at": utcnow()})
        if rows:
            await s.exec(insert(Outbox).values(rows))
            notify.mark_written(s)
        return len(rows)
