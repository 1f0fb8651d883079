"""The monthly bulletin: a draft compiled from the month's best answered questions, the broadcasts
sent and (once national issues land) their progress; staff edit it and send it as a broadcast.

`compile_bulletin` only reads. The draft lives in the staff member's conversation state until
`send_bulletin` hands it to `broadcasts.submit_broadcast`, so it is delivered, reported on and
cancellable like any broadcast. Parts of the bulletin are a registry (`@bulletin_part`): the
national-issues feature registers `"national_progress"` and its heading in
`bot.views.digests.HEADINGS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import broadcasts, policy, survey_digest
from bot.services.broadcasts import Audience, Draft, Submitted
from bot.services.digests import DigestItem, snippet
from storage.db import Database
from storage.enums import BroadcastKind, BroadcastStatus, ItemKind, ItemStatus, QuestionStatus
from storage.models import (
    Answer,
    Broadcast,
    LibraryAdoption,
    LibraryItem,
    LibraryVote,
    NationalIssue,
    Question,
)

TOP_QUESTIONS = 5
TOP_BROADCASTS = 10


@dataclass(frozen=True)
class Period:
    month: date  # the first day of the month
    start: datetime  # aware UTC
    end: datetime


def month_period(month: date, tz: ZoneInfo) -> Period:
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, datetime(first.year, first.month, 1, tzinfo=tz),
                  datetime(following.year, following.month, 1, tzinfo=tz))


PartCollector = Callable[[AsyncSession, Period], Awaitable[list[DigestItem]]]
BULLETIN_PARTS: dict[str, tuple[int, PartCollector]] = {}


def bulletin_part(code: str, order: int) -> Callable[[PartCollector], PartCollector]:
    def register(collect: PartCollector) -> PartCollector:
        BULLETIN_PARTS[code] = (order, collect)
        return collect

    return register


@bulletin_part("best_answers", 10)
async def best_answers(session: AsyncSession, period: Period) -> list[DigestItem]:
    """The month's answered questions with the most "useful" votes on their answers."""
    votes = func.coalesce(func.sum(Answer.useful_count), 0).label("votes")
    rows = await session.exec(
        select(Question.id, Question.group_id, Question.text, votes)
        .join(Answer, col(Answer.question_id) == Question.id)
        .where(col(Question.status).in_((QuestionStatus.ANSWERED, QuestionStatus.RESOLVED)),
               col(Question.answered_at) >= period.start, col(Question.answered_at) < period.end,
               col(Answer.hidden_reason).is_(None), col(Answer.is_follow_up).is_(False))
        .group_by(col(Question.id))
        .order_by(votes.desc(), col(Question.id))
        .limit(TOP_QUESTIONS))
    return [DigestItem(f"Q-{qid}", snippet(text, 120), group_id, None, f"votes:{int(v)}")
            for qid, group_id, text, v in rows.all()]


@bulletin_part("month_broadcasts", 20)
async def month_broadcasts(session: AsyncSession, period: Period) -> list[DigestItem]:
    rows = await session.exec(
        select(Broadcast)
        .where(col(Broadcast.status) == BroadcastStatus.SENDING,
               col(Broadcast.started_at) >= period.start, col(Broadcast.started_at) < period.end)
        .order_by(col(Broadcast.started_at))
        .limit(TOP_BROADCASTS))
    return [DigestItem(f"B-{b.id}", snippet(b.title, 120), None, b.started_at, None)
            for b in rows.all()]


@bulletin_part("national_progress", 30)
async def national_progress(session: AsyncSession, period: Period) -> list[DigestItem]:
    """National issues that moved this month (not sensitive ones), most municipalities first."""
    rows = await session.exec(
        select(NationalIssue)
        .where(col(NationalIssue.state_changed_at) >= period.start,
               col(NationalIssue.state_changed_at) < period.end,
               col(NationalIssue.created_at) < col(NationalIssue.state_changed_at),
               col(NationalIssue.restricted).is_(False))
        .order_by(col(NationalIssue.municipalities_count).desc(), col(NationalIssue.id))
        .limit(TOP_BROADCASTS))
    return [DigestItem(f"P-{i.id}", snippet(i.title, 120), None, i.state_changed_at,
                       f"issue_{i.state}") for i in rows.all()]


@bulletin_part("practice_of_month", 5)
async def practice_of_month(session: AsyncSession, period: Period) -> list[DigestItem]:
    """The practice most adopted ("our municipality uses this") and found useful this month."""
    adopted = dict((await session.exec(
        select(LibraryAdoption.item_id, func.count())
        .where(col(LibraryAdoption.created_at) >= period.start,
               col(LibraryAdoption.created_at) < period.end)
        .group_by(col(LibraryAdoption.item_id)))).all())
    useful = dict((await session.exec(
        select(LibraryVote.item_id, func.count())
        .where(col(LibraryVote.created_at) >= period.start,
               col(LibraryVote.created_at) < period.end)
        .group_by(col(LibraryVote.item_id)))).all())
    if not adopted and not useful:
        return []
    items = (await session.exec(select(LibraryItem).where(
        col(LibraryItem.id).in_(set(adopted) | set(useful)),
        LibraryItem.kind == ItemKind.PRACTICE,
        LibraryItem.status == ItemStatus.PUBLISHED))).all()
    if not items:
        return []
    best = max(items, key=lambda i: (adopted.get(i.id or 0, 0), useful.get(i.id or 0, 0),
                                     -(i.id or 0)))
    return [DigestItem(f"LIB-{best.id}", snippet(best.title_ru or best.title_ky, 120),
                       best.group_id, None,
                       f"used:{adopted.get(best.id or 0, 0)}:{useful.get(best.id or 0, 0)}")]


@bulletin_part("survey_results", 40)
async def survey_results(session: AsyncSession, period: Period) -> list[DigestItem]:
    """Surveys whose results were sent back to members this month."""
    return [DigestItem(f"S-{s.id}", snippet(s.title_ru, 120), None, s.results_published_at,
                       None) for s in await survey_digest.published_in(session, period.start,
                                                                        period.end)]


@dataclass
class BulletinData:
    period: Period
    parts: list[tuple[str, list[DigestItem]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(items for _, items in self.parts)


async def compile_bulletin(db: Database, actor_id: int, month: date,
                           tz: ZoneInfo) -> BulletinData:
    """What happened in `month`, for staff to turn into the bulletin (nothing is written)."""
    period = month_period(month, tz)
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_compile_bulletin(actor),
                            policy.Action.COMPILE_BULLETIN)
        data = BulletinData(period)
        for code, (_, collect) in sorted(BULLETIN_PARTS.items(), key=lambda kv: kv[1][0]):
            data.parts.append((code, await collect(s, period)))
    return data


async def send_bulletin(db: Database, actor_id: int, month: date, text_ky: str, text_ru: str,
                        text_en: str | None) -> Submitted:
    """Send the edited bulletin to every member as Union news, through the broadcast engine."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_compile_bulletin(actor),
                        policy.Action.COMPILE_BULLETIN)
    return await broadcasts.submit_broadcast(db, actor_id, Draft(
        kind=BroadcastKind.NEWS, title=f"Birge · {month:%m.%Y}", text_ky=text_ky,
        text_ru=text_ru, text_en=text_en, audience=Audience()))
