"""Figures for the Union staff (/stats) and the annual report.

Members by region, district and community, and how many were active in the last 30 days (an
action of theirs is recorded: an audited change, a broadcast acknowledged, commented or asked
about, a question or an answer, a survey response); questions asked, answered and the median
hours to a first answer by topic group; the legal desk; broadcast reach and acknowledgement; the
national issues by state and by state body; survey response rates. Counted in SQL expressions
that run on SQLite and PostgreSQL alike; medians in Python (no portable SQL median).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import policy
from storage.db import Database
from storage.enums import MemberStatus, OutboxStatus, ResponseKind
from storage.models import (
    Answer,
    AuditLog,
    Broadcast,
    BroadcastResponse,
    Community,
    CommunityMembership,
    District,
    LegalCase,
    Member,
    NationalIssue,
    Outbox,
    Question,
    Region,
    StateBody,
    Survey,
    SurveyInvite,
    SurveyResponse,
    TopicGroup,
)
from storage.types import utcnow

ACTIVE_DAYS = 30


@dataclass
class Figures:
    start: datetime
    end: datetime
    members: int = 0
    active: int = 0
    by_region: dict[str, int] = field(default_factory=dict)
    active_by_region: dict[str, int] = field(default_factory=dict)
    by_district: dict[str, int] = field(default_factory=dict)
    by_community: dict[str, int] = field(default_factory=dict)
    # topic group -> (asked, answered, median hours to the first answer or None)
    questions: dict[str, tuple[int, int, float | None]] = field(default_factory=dict)
    legal_total: int = 0
    legal_by_category: dict[str, int] = field(default_factory=dict)
    legal_median_first_hours: float | None = None
    # broadcast title -> (recipients, delivered, acknowledged)
    broadcasts: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    issues_by_state: dict[str, int] = field(default_factory=dict)
    issues_by_body: dict[str, int] = field(default_factory=dict)
    issues_by_region: dict[str, int] = field(default_factory=dict)
    # survey title -> (invited, responded)
    surveys: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def reach(self) -> tuple[int, int, int]:
        return (sum(v[0] for v in self.broadcasts.values()),
                sum(v[1] for v in self.broadcasts.values()),
                sum(v[2] for v in self.broadcasts.values()))


def rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


async def ensure_staff(db: Database, s: AsyncSession, actor_id: int) -> None:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_view_stats(actor), policy.Action.VIEW_STATS)


async def _active_ids(s: AsyncSession, since: datetime, until: datetime) -> set[int]:
    found: set[int] = set()
    for column, moment in ((AuditLog.actor_id, AuditLog.created_at),
                           (BroadcastResponse.member_id, BroadcastResponse.created_at),
                           (Question.asker_id, Question.created_at),
                           (Answer.author_id, Answer.created_at),
                           (SurveyResponse.member_id, SurveyResponse.updated_at)):
        found |= {m for m in (await s.exec(select(column).where(
            col(moment) >= since, col(moment) < until).distinct())).all() if m is not None}
    return found


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds() / 3600


async def figures(db: Database, actor_id: int, start: datetime | None = None,
                  end: datetime | None = None, lang: str = "ru") -> Figures:
    """The figures of [start, end) (default: the last 365 days); members as of `end`."""
    end = end or utcnow()
    start = start or end - timedelta(days=365)
    out = Figures(start, end)
    async with db.read() as s:
        await ensure_staff(db, s, actor_id)
        regions = {r.id: r.name(lang) for r in (await s.exec(select(Region))).all()}
        districts = {d.id: d.name(lang) for d in (await s.exec(select(District))).all()}
        members = (await s.exec(select(Member.id, Member.region_id, Member.district_id).where(
            Member.status == MemberStatus.ACTIVE, col(Member.created_at) < end))).all()
        active = await _active_ids(s, end - timedelta(days=ACTIVE_DAYS), end)
        by_region: Counter[str] = Counter()
        active_by_region: Counter[str] = Counter()
        by_district: Counter[str] = Counter()
        for member_id, region_id, district_id in members:
            region = regions.get(region_id, "—")
            by_region[region] += 1
            by_district[districts.get(district_id, "—")] += 1
            if member_id in active:
                active_by_region[region] += 1
                out.active += 1
        out.members = len(members)
        out.by_region, out.by_district = dict(sorted(by_region.items())), \
            dict(sorted(by_district.items()))
        out.active_by_region = {k: active_by_region.get(k, 0) for k in out.by_region}
        communities = (await s.exec(
            select(Community, func.count()).join(
                CommunityMembership, col(CommunityMembership.community_id) == Community.id)
            .join(Member, col(Member.id) == CommunityMembership.member_id)
            .where(Member.status == MemberStatus.ACTIVE).group_by(col(Community.id))
            .order_by(col(Community.sort)))).all()
        out.by_community = {c.name(lang): int(n) for c, n in communities}

        groups = {g.id: g.name(lang) for g in (await s.exec(select(TopicGroup))).all()}
        asked: dict[str, list[Question]] = defaultdict(list)
        for q in (await s.exec(select(Question).where(
                col(Question.created_at) >= start, col(Question.created_at) < end))).all():
            asked[groups.get(q.group_id, "—")].append(q)
        for name, qs in sorted(asked.items()):
            hours = [h for q in qs if (h := _hours(q.answered_at, q.created_at)) is not None]
            out.questions[name] = (len(qs), len(hours),
                                   round(statistics.median(hours), 1) if hours else None)

        cases = (await s.exec(select(LegalCase).where(
            col(LegalCase.created_at) >= start, col(LegalCase.created_at) < end))).all()
        out.legal_total = len(cases)
        out.legal_by_category = dict(sorted(Counter(c.category for c in cases).items()))
        first = [h for c in cases if (h := _hours(c.first_response_at, c.created_at)) is not None]
        out.legal_median_first_hours = round(statistics.median(first), 1) if first else None

        sent = (await s.exec(select(Broadcast).where(
            col(Broadcast.created_at) >= start, col(Broadcast.created_at) < end)
            .order_by(col(Broadcast.id)))).all()
        for b in sent:
            counts = dict((await s.exec(select(Outbox.status, func.count()).where(
                Outbox.broadcast_id == b.id).group_by(Outbox.status))).all())
            acks = (await s.exec(select(func.count()).select_from(BroadcastResponse).where(
                BroadcastResponse.broadcast_id == b.id,
                BroadcastResponse.kind == ResponseKind.ACK))).one()
            out.broadcasts[f"B-{b.id} {b.title}"] = (
                sum(counts.values()), int(counts.get(OutboxStatus.SENT.value, 0)), int(acks))

        bodies = {b.id: b.name(lang) for b in (await s.exec(select(StateBody))).all()}
        issues = (await s.exec(select(NationalIssue).where(
            col(NationalIssue.created_at) >= start, col(NationalIssue.created_at) < end))).all()
        out.issues_by_state = dict(sorted(Counter(i.state for i in issues).items()))
        out.issues_by_body = dict(sorted(Counter(
            bodies.get(i.state_body_id, "—") for i in issues).items()))
        out.issues_by_region = dict(sorted(Counter(
            regions.get(i.region_id, "—") for i in issues).items()))

        for survey in (await s.exec(select(Survey).where(
                col(Survey.created_at) >= start, col(Survey.created_at) < end)
                .order_by(col(Survey.id)))).all():
            invited = (await s.exec(select(func.count()).select_from(SurveyInvite).where(
                SurveyInvite.survey_id == survey.id))).one()
            answered = (await s.exec(select(func.count()).select_from(SurveyResponse).where(
                SurveyResponse.survey_id == survey.id,
                col(SurveyResponse.submitted_at).is_not(None)))).one()
            title = survey.title_ky if lang == "ky" else survey.title_ru
            out.surveys[f"S-{survey.id} {title}"] = (int(invited), int(answered))
    return out
