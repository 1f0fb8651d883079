"""Broadcasts: decisions and announcements sent downward to exactly the members they concern.

A broadcast is composed once (texts in Kyrgyz and Russian, English optional), aimed at an
audience, and then fanned out as one outbox row per recipient in the same transaction; the
delivery worker renders each row in the recipient's language and sends it under Telegram's limits.
The rows are the per-recipient state: a crash, a cancel or a report all read them.
State-body liaisons may compose; Union staff approve those before anything is sent.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, literal, union_all
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import LANGUAGES
from bot.services import audit, cache, decision_questions, decisions, notify, policy, roles
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import (
    BroadcastKind,
    BroadcastStatus,
    MemberStatus,
    OutboxStatus,
    ResponseKind,
    Role,
)
from storage.models import (
    Broadcast,
    BroadcastOutcome,
    BroadcastResponse,
    CommunityMembership,
    District,
    Member,
    Outbox,
    Region,
    RoleAssignment,
)
from storage.types import utcnow

TITLE_MAX = 200
TEXT_MAX = 3500
REPLY_MAX = 2000
DOCUMENTS_MAX = 10
FALLBACK = {"ky": ("ky", "ru", "en"), "ru": ("ru", "ky", "en"), "en": ("en", "ru", "ky")}
OUTBOX_KIND = "broadcast"


@dataclass
class Audience:
    """Who receives a broadcast. Empty means every active member; within one dimension any
    value matches, across dimensions all must match; `members` (a pasted list) is used alone."""

    roles: list[str] = field(default_factory=list)
    communities: list[int] = field(default_factory=list)
    regions: list[int] = field(default_factory=list)
    districts: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)

    @property
    def everyone(self) -> bool:
        return not any((self.roles, self.communities, self.regions, self.districts,
                        self.languages, self.members))

    def as_json(self) -> dict[str, list[Any]]:
        return {k: sorted(set(v)) for k, v in self.__dict__.items() if v}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience:
        data = data or {}
        return cls(**{k: list(data.get(k, [])) for k in cls.__dataclass_fields__})


@dataclass
class Draft:
    kind: BroadcastKind
    title: str  # in Russian
    text_ky: str
    text_ru: str
    text_en: str | None = None
    title_ky: str | None = None
    title_en: str | None = None
    source_url: str | None = None
    documents: list[dict[str, str]] = field(default_factory=list)
    audience: Audience = field(default_factory=Audience)
    send_at: datetime | None = None
    comments_until: datetime | None = None


@dataclass(frozen=True)
class Submitted:
    broadcast_id: int
    status: BroadcastStatus
    recipients: int


# --- who receives it ---------------------------------------------------------------------------


def audience_query(audience: Audience) -> Any:
    """The active members an audience names, as a query of member ids (broadcasts, events)."""
    query = select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    if audience.members:
        query = query.where(col(Member.id).in_(audience.members))
    else:
        if audience.regions:
            query = query.where(col(Member.region_id).in_(audience.regions))
        if audience.districts:
            query = query.where(col(Member.district_id).in_(audience.districts))
        if audience.languages:
            query = query.where(col(Member.language).in_(audience.languages))
        if audience.communities:
            query = query.where(col(Member.id).in_(
                select(CommunityMembership.member_id).where(
                    col(CommunityMembership.community_id).in_(audience.communities))))
        roles = [r for r in audience.roles if r != Role.MEMBER]
        if roles and len(roles) == len(audience.roles):
            query = query.where(col(Member.id).in_(
                select(RoleAssignment.member_id).where(col(RoleAssignment.role).in_(roles))))
    return query


async def _recipients(session: AsyncSession, audience: Audience) -> list[int]:
    query = audience_query(audience)
    return [m for m in (await session.exec(query.order_by(col(Member.id)))).all() if m]


async def in_audience(session: AsyncSession, audience: Audience, member_id: int) -> bool:
    """Whether this member is one the audience names (an active member, all filters met)."""
    found = (await session.exec(audience_query(audience).where(Member.id == member_id))).first()
    return found is not None


async def audiences_of(session: AsyncSession, audiences: dict[int, Audience],
                       member_id: int) -> set[int]:
    """Which of these audiences (by key: an event's id …) name this member, in one statement."""
    if not audiences:
        return set()
    parts = [audience_query(a).where(Member.id == member_id)
             .with_only_columns(literal(key).label("key")) for key, a in audiences.items()]
    rows = (await session.exec(union_all(*parts))).all()  # type: ignore[call-overload]
    return {int(row[0]) for row in rows}


async def recipients(session: AsyncSession, audience: Audience) -> list[int]:
    """The active members an audience names (surveys aim at members exactly as broadcasts do)."""
    return await _recipients(session, audience)


async def count_audience(db: Database, actor_id: int, audience: Audience) -> int:
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_compose_broadcast(actor),
                            policy.Action.COMPOSE_BROADCAST)
        return len(await _recipients(s, audience))


async def resolve_pasted(db: Database, text: str) -> tuple[list[int], list[str]]:
    """Members named in a pasted list (@usernames or Telegram ids), and what matched nobody."""
    tokens = [t for t in re.split(r"[\s,;]+", text) if t][:5000]
    found: set[int] = set()
    unknown: list[str] = []
    async with db.read() as s:
        for token in tokens:
            name = token.removeprefix("https://t.me/").removeprefix("@").lower()
            if name.isdigit():
                query = select(Member.id).where(Member.telegram_id == int(name))
            elif re.fullmatch(r"[a-z0-9_]{3,64}", name):
                query = select(Member.id).where(Member.username == name)
            else:
                unknown.append(token[:40])
                continue
            member_id = (await s.exec(query)).first()
            if member_id is None:
                unknown.append(token[:40])
            else:
                found.add(member_id)
    return sorted(found), unknown


# --- composing and approving -------------------------------------------------------------------


def _clean(draft: Draft) -> Draft:
    title = " ".join(draft.title.split())
    if not 3 <= len(title) <= TITLE_MAX:
        raise InvalidInput("broadcast_title", limit=TITLE_MAX)
    titles: dict[str, str | None] = {}
    for lang in ("ky", "en"):
        other = " ".join((getattr(draft, f"title_{lang}") or "").split()) or None
        if other is not None and not 3 <= len(other) <= TITLE_MAX:
            raise InvalidInput("broadcast_title", limit=TITLE_MAX)
        titles[lang] = other
    texts = {}
    for lang in LANGUAGES:
        text = (getattr(draft, f"text_{lang}") or "").strip()
        if lang != "en" and not text:
            raise InvalidInput("broadcast_text", limit=TEXT_MAX)
        if len(text) > TEXT_MAX:
            raise InvalidInput("broadcast_text", limit=TEXT_MAX)
        texts[lang] = text or None
    source = (draft.source_url or "").strip() or None
    if source and not re.fullmatch(r"https?://[^\s<>\"']{3,490}", source):
        raise InvalidInput("broadcast_source")
    if len(draft.documents) > DOCUMENTS_MAX:
        raise InvalidInput("broadcast_documents", limit=DOCUMENTS_MAX)
    now = utcnow()
    if draft.send_at is not None and draft.send_at < now - timedelta(minutes=1):
        raise InvalidInput("broadcast_when")
    if draft.kind == BroadcastKind.DRAFT_LAW:
        if draft.comments_until is None or draft.comments_until < now:
            raise InvalidInput("broadcast_deadline")
    return Draft(kind=BroadcastKind(draft.kind), title=title, title_ky=titles["ky"],
                 title_en=titles["en"], text_ky=texts["ky"] or "",
                 text_ru=texts["ru"] or "", text_en=texts["en"], source_url=source,
                 documents=list(draft.documents), audience=draft.audience,
                 send_at=draft.send_at,
                 comments_until=draft.comments_until
                 if draft.kind == BroadcastKind.DRAFT_LAW else None)


async def _fan_out(session: AsyncSession, broadcast: Broadcast) -> int:
    """One outbox row per recipient, written with the broadcast's change of state."""
    assert broadcast.id is not None
    members = await _recipients(session, Audience.from_json(broadcast.audience))
    urgent = broadcast.kind == BroadcastKind.URGENT
    priority = notify.PRIORITY_URGENT if urgent else notify.PRIORITY_BULK
    payload: dict[str, Any] = {"broadcast_id": broadcast.id, "category": "broadcasts"}
    if urgent:
        payload["urgent"] = True  # past quiet hours and muted broadcasts alike
    rows = [{"member_id": m, "broadcast_id": broadcast.id, "kind": OUTBOX_KIND,
             "payload": payload, "priority": priority,
             "status": OutboxStatus.PENDING.value, "attempts": 0,
             "not_before": broadcast.send_at, "created_at": utcnow()} for m in members]
    for start in range(0, len(rows), 1000):
        await session.exec(insert(Outbox).values(rows[start:start + 1000]))
    notify.mark_written(session)
    await decisions.record(session, broadcast.id, members)
    broadcast.recipients = len(members)
    broadcast.started_at = broadcast.send_at or utcnow()
    broadcast.status = (BroadcastStatus.SCHEDULED if broadcast.send_at and
                        broadcast.send_at > utcnow() else BroadcastStatus.SENDING)
    return len(members)


async def submit_broadcast(db: Database, actor_id: int, draft: Draft) -> Submitted:
    """Staff send (now or at `send_at`); a state-body liaison's broadcast waits for staff."""
    draft = _clean(draft)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_compose_broadcast(actor),
                            policy.Action.COMPOSE_BROADCAST)
        broadcast = Broadcast(
            kind=draft.kind, title=draft.title, title_ky=draft.title_ky,
            title_en=draft.title_en, text_ky=draft.text_ky, text_ru=draft.text_ru,
            text_en=draft.text_en, source_url=draft.source_url, documents=draft.documents,
            audience=draft.audience.as_json(), created_by_id=actor_id, send_at=draft.send_at,
            comments_until=draft.comments_until, status=BroadcastStatus.AWAITING_APPROVAL,
        )
        s.add(broadcast)
        await s.flush()
        assert broadcast.id is not None
        if policy.can_approve_broadcast(actor):
            broadcast.approved_by_id = actor_id
            count = await _fan_out(s, broadcast)
        else:
            count = len(await _recipients(s, draft.audience))
            staff = (await s.exec(
                select(RoleAssignment.member_id).where(RoleAssignment.role == Role.UNION_STAFF)
            )).all()
            for member_id in sorted(set(staff)):
                notify.enqueue(s, member_id, "broadcast_for_approval",
                               broadcast_id=broadcast.id)
        audit.record(s, actor_id, "broadcast_submitted", "broadcast", broadcast.id,
                     recipients=count, status=str(broadcast.status))
        return Submitted(broadcast.id, BroadcastStatus(broadcast.status), count)


async def send_within(session: AsyncSession, actor_id: int, draft: Draft) -> Submitted:
    """A broadcast written and fanned out inside the caller's transaction, already approved: for
    a service that decided itself who may send it (a survey's results to its respondents)."""
    draft = _clean(draft)
    broadcast = Broadcast(
        kind=draft.kind, title=draft.title, title_ky=draft.title_ky, title_en=draft.title_en,
        text_ky=draft.text_ky, text_ru=draft.text_ru,
        text_en=draft.text_en, source_url=draft.source_url, documents=draft.documents,
        audience=draft.audience.as_json(), created_by_id=actor_id, send_at=draft.send_at,
        approved_by_id=actor_id, status=BroadcastStatus.AWAITING_APPROVAL)
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    count = await _fan_out(session, broadcast)
    audit.record(session, actor_id, "broadcast_submitted", "broadcast", broadcast.id,
                 recipients=count, status=str(broadcast.status))
    return Submitted(broadcast.id, BroadcastStatus(broadcast.status), count)


async def _load(session: AsyncSession, broadcast_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(what="broadcast")
    return broadcast


async def approve_broadcast(db: Database, actor_id: int, broadcast_id: int) -> Submitted:
    """Staff let a liaison's broadcast go; approving twice changes nothing."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_approve_broadcast(actor),
                            policy.Action.APPROVE_BROADCAST, broadcast_id)
        broadcast = await _load(s, broadcast_id)
        if broadcast.status != BroadcastStatus.AWAITING_APPROVAL:
            return Submitted(broadcast_id, BroadcastStatus(broadcast.status),
                             broadcast.recipients)
        if broadcast.send_at is not None and broadcast.send_at < utcnow():
            broadcast.send_at = None
        broadcast.approved_by_id = actor_id
        count = await _fan_out(s, broadcast)
        notify.enqueue(s, broadcast.created_by_id, "broadcast_decided",
                       broadcast_id=broadcast_id, approved=True)
        await _settle(s, actor_id, broadcast, "broadcast_approved")
        audit.record(s, actor_id, "broadcast_approved", "broadcast", broadcast_id)
        return Submitted(broadcast_id, BroadcastStatus(broadcast.status), count)


async def _settle(s: AsyncSession, actor_id: int, broadcast: Broadcast, verdict: str) -> None:
    """The other staff's approval notices show the verdict instead of live buttons."""
    decider = await s.get(Member, actor_id)
    await notify.settle(s, "broadcast_for_approval", "broadcast_id", broadcast.id or 0,
                        verdict=verdict, actor_id=actor_id, name=broadcast.title,
                        by=decider.full_name if decider else "")


async def reject_broadcast(db: Database, actor_id: int, broadcast_id: int) -> Submitted:
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_approve_broadcast(actor),
                            policy.Action.APPROVE_BROADCAST, broadcast_id)
        broadcast = await _load(s, broadcast_id)
        if broadcast.status == BroadcastStatus.AWAITING_APPROVAL:
            broadcast.status = BroadcastStatus.REJECTED
            notify.enqueue(s, broadcast.created_by_id, "broadcast_decided",
                           broadcast_id=broadcast_id, approved=False)
            await _settle(s, actor_id, broadcast, "broadcast_rejected")
            audit.record(s, actor_id, "broadcast_rejected", "broadcast", broadcast_id)
        return Submitted(broadcast_id, BroadcastStatus(broadcast.status), broadcast.recipients)


async def cancel_broadcast(db: Database, actor_id: int, broadcast_id: int) -> int:
    """Stop a scheduled or running broadcast: what was sent stays sent, the rest never goes.
    Returns how many messages were still waiting (the worker drops those it had already taken
    when their turn comes)."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        broadcast = await _load(s, broadcast_id)
        await policy.ensure(db, actor, policy.can_manage_broadcast(actor, broadcast.created_by_id),
                            policy.Action.CANCEL_BROADCAST, broadcast_id)
        if broadcast.status not in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING,
                                    BroadcastStatus.AWAITING_APPROVAL):
            raise InvalidState("broadcast_not_running")
        broadcast.status = BroadcastStatus.CANCELLED
        broadcast.cancelled_at = utcnow()
        taken = (await s.exec(select(func.count()).where(
            Outbox.broadcast_id == broadcast_id, Outbox.status == OutboxStatus.SENDING))).one()
        result = await s.exec(
            update(Outbox)
            .where(col(Outbox.broadcast_id) == broadcast_id,
                   col(Outbox.status) == OutboxStatus.PENDING)
            .values(status=OutboxStatus.CANCELLED, last_error="cancelled")
        )
        await decisions.forget_cancelled(s, broadcast_id)
        audit.record(s, actor_id, "broadcast_cancelled", "broadcast", broadcast_id)
        return int(result.rowcount or 0) + int(taken)


# --- what members do with it -------------------------------------------------------------------


async def _as_recipient(session: AsyncSession, member_id: int, broadcast_id: int) -> Broadcast:
    """The broadcast, if it was sent to this member (nobody answers what they did not get)."""
    got = (await session.exec(
        select(Outbox.id).where(Outbox.broadcast_id == broadcast_id,
                                Outbox.member_id == member_id).limit(1)
    )).first()
    if got is None:
        # Its rows may have been pruned (bot/services/pruning.py): then the audience decides.
        broadcast = await session.get(Broadcast, broadcast_id)
        pruned = broadcast is not None and (await session.exec(
            select(BroadcastOutcome.id).where(BroadcastOutcome.broadcast_id == broadcast_id)
            .limit(1))).first() is not None
        if not pruned or broadcast is None or not await in_audience(
                session, Audience.from_json(broadcast.audience), member_id):
            raise NotFound(what="broadcast")
    return await _load(session, broadcast_id)


async def acknowledge(db: Database, member_id: int, broadcast_id: int) -> bool:
    """The member read it. False when they had already said so."""
    async with db.transaction() as s:
        await _as_recipient(s, member_id, broadcast_id)
        seen = (await s.exec(select(BroadcastResponse.id).where(
            BroadcastResponse.broadcast_id == broadcast_id,
            BroadcastResponse.member_id == member_id,
            BroadcastResponse.kind == ResponseKind.ACK))).first()
        if seen is not None:
            return False
        s.add(BroadcastResponse(broadcast_id=broadcast_id, member_id=member_id,
                                kind=ResponseKind.ACK))
        return True


def _reply_text(text: str) -> str:
    cleaned = text.strip()
    if not 2 <= len(cleaned) <= REPLY_MAX:
        raise InvalidInput("reply_length", limit=REPLY_MAX)
    return cleaned


async def comment_on_draft(db: Database, member_id: int, broadcast_id: int, text: str) -> None:
    """A member's comment on a draft law, before its deadline: material for the Union's view."""
    text = _reply_text(text)
    async with db.transaction() as s:
        broadcast = await _as_recipient(s, member_id, broadcast_id)
        if broadcast.kind != BroadcastKind.DRAFT_LAW:
            raise InvalidState("not_a_draft")
        if broadcast.comments_until is None or broadcast.comments_until < utcnow():
            raise InvalidState("comments_closed")
        s.add(BroadcastResponse(broadcast_id=broadcast_id, member_id=member_id,
                                kind=ResponseKind.COMMENT, text=text))
        audit.record(s, member_id, "broadcast_commented", "broadcast", broadcast_id)


async def ask_about(db: Database, member_id: int, broadcast_id: int, text: str) -> None:
    """A question about a broadcast goes to its author and the Union staff."""
    text = _reply_text(text)
    async with db.transaction() as s:
        broadcast = await _as_recipient(s, member_id, broadcast_id)
        response = BroadcastResponse(broadcast_id=broadcast_id, member_id=member_id,
                                     kind=ResponseKind.QUESTION, text=text)
        s.add(response)
        await s.flush()
        decision_questions.track(s, response)
        staff = set(await roles.staff_ids(s))
        for to in sorted(staff | {broadcast.created_by_id}):
            if to != member_id:
                notify.enqueue(s, to, "broadcast_question", response_id=response.id)
        audit.record(s, member_id, "broadcast_question", "broadcast", broadcast_id)


# --- reading ----------------------------------------------------------------------------------


_by_id: cache.ReadCache[Broadcast | None] = cache.ReadCache(30.0, "broadcast")


async def cached(db: Database, broadcast_id: int) -> Broadcast | None:
    """The broadcast for rendering its 10,000 copies (read once, not once per recipient)."""
    found = _by_id.get(broadcast_id)
    if not cache.missing(found):
        return found  # type: ignore[return-value]
    async with db.read() as s:
        row = await s.get(Broadcast, broadcast_id)
    return _by_id.put(broadcast_id, row)


def text_for(broadcast: Broadcast, language: str) -> str:
    for lang in FALLBACK.get(language, FALLBACK["ru"]):
        text = getattr(broadcast, f"text_{lang}")
        if text:
            return str(text)
    return broadcast.text_ru


def title_for(broadcast: Broadcast, language: str) -> str:
    """The title in `language`, with the same fallback as the text (`title` is the Russian)."""
    for lang in FALLBACK.get(language, FALLBACK["ru"]):
        title = broadcast.title if lang == "ru" else getattr(broadcast, f"title_{lang}", None)
        if title:
            return str(title)
    return broadcast.title


async def for_member(db: Database, member_id: int, broadcast_id: int) -> Broadcast:
    async with db.read() as s:
        return await _as_recipient(s, member_id, broadcast_id)


@dataclass
class Report:
    broadcast: Broadcast
    total: int
    by_status: dict[str, int]
    acknowledged: int
    rate_per_second: float
    seconds_left: float | None
    # (region, district) -> {"recipients", "sent", "failed", "unreachable", "acknowledged", ...}
    by_place: dict[tuple[str, str], dict[str, int]]

    @property
    def finished(self) -> bool:
        return self.by_status.get("pending", 0) + self.by_status.get("sending", 0) == 0


async def _viewable(db: Database, s: AsyncSession, actor_id: int,
                    broadcast_id: int) -> Broadcast:
    actor = await policy.load_actor(s, actor_id)
    broadcast = await _load(s, broadcast_id)
    await policy.ensure(db, actor, policy.can_manage_broadcast(actor, broadcast.created_by_id),
                        policy.Action.VIEW_BROADCAST_REPORT, broadcast_id)
    return broadcast


async def report(db: Database, actor_id: int, broadcast_id: int, lang: str = "ru") -> Report:
    """Progress and outcome, overall and by region and district (staff and the author)."""
    async with db.read() as s:
        broadcast = await _viewable(db, s, actor_id, broadcast_id)
        counts: dict[str, int] = defaultdict(int)
        for status, n in (await s.exec(
                select(Outbox.status, func.count()).where(Outbox.broadcast_id == broadcast_id)
                .group_by(Outbox.status))).all():
            counts[status] += n
        recent = (await s.exec(select(func.count()).where(
            Outbox.broadcast_id == broadcast_id, Outbox.status == OutboxStatus.SENT,
            col(Outbox.sent_at) >= utcnow() - timedelta(seconds=30)))).one()
        # Who acknowledged, where they are (only recipients can: `_as_recipient`).
        acks = (await s.exec(
            select(BroadcastResponse.member_id, Member.region_id, Member.district_id)
            .join(Member, col(Member.id) == BroadcastResponse.member_id)
            .where(BroadcastResponse.broadcast_id == broadcast_id,
                   BroadcastResponse.kind == ResponseKind.ACK))).all()
        rows = (await s.exec(
            select(Outbox.status, Member.region_id, Member.district_id, func.count())
            .join(Member, col(Member.id) == Outbox.member_id)
            .where(Outbox.broadcast_id == broadcast_id)
            .group_by(col(Outbox.status), col(Member.region_id),
                      col(Member.district_id)))).all()
        # What the pruning job kept of the rows it deleted (bot/services/pruning.py).
        pruned = (await s.exec(
            select(BroadcastOutcome.status, BroadcastOutcome.region_id,
                   BroadcastOutcome.district_id, BroadcastOutcome.count)
            .where(BroadcastOutcome.broadcast_id == broadcast_id))).all()
        region_ids = {r[1] for r in [*rows, *pruned, *acks] if r[1] is not None}
        district_ids = {r[2] for r in [*rows, *pruned, *acks] if r[2] is not None}
        regions = {r.id: r for r in (await s.exec(
            select(Region).where(col(Region.id).in_(region_ids)))).all()}
        districts = {d.id: d for d in (await s.exec(
            select(District).where(col(District.id).in_(district_ids)))).all()}
    for status, _region, _district, n in pruned:
        counts[status] += n
    counts = {k: v for k, v in counts.items() if v}
    by_place: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def place_of(region_id: int | None, district_id: int | None) -> dict[str, int]:
        region = regions.get(region_id) if region_id is not None else None
        district = districts.get(district_id) if district_id is not None else None
        return by_place[(region.name(lang) if region else "—",
                         district.name(lang) if district else "—")]

    for status, region_id, district_id, n in [*rows, *pruned]:
        place = place_of(region_id, district_id)
        place["recipients"] += n
        place[status] += n
    for _member_id, region_id, district_id in acks:
        place_of(region_id, district_id)["acknowledged"] += 1
    total = sum(counts.values())
    left = counts.get("pending", 0) + counts.get("sending", 0)
    rate = recent / 30.0
    return Report(
        broadcast=broadcast, total=total, by_status=counts, acknowledged=len({a[0] for a in acks}),
        rate_per_second=rate, seconds_left=(left / rate) if rate > 0 and left else None,
        by_place={k: dict(v) for k, v in sorted(by_place.items())},
    )


async def report_csv(db: Database, actor_id: int, broadcast_id: int, lang: str = "ru") -> str:
    found = await report(db, actor_id, broadcast_id, lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ["recipients", "sent", "failed", "unreachable", "cancelled", "pending",
               "acknowledged"]
    writer.writerow(["region", "district", *columns])
    for (region, district), counts in found.by_place.items():
        pending = counts.get("pending", 0) + counts.get("sending", 0)
        values = {**counts, "pending": pending}
        writer.writerow([region, district, *[values.get(c, 0) for c in columns]])
    return out.getvalue()


@dataclass(frozen=True)
class Comment:
    member_name: str
    municipality: str | None
    text: str
    at: datetime


async def comments_by_district(db: Database, actor_id: int, broadcast_id: int,
                               lang: str = "ru") -> dict[str, list[Comment]]:
    """Members' comments on a draft law grouped by district: the Union's position material."""
    async with db.read() as s:
        await _viewable(db, s, actor_id, broadcast_id)
        rows = (await s.exec(
            select(BroadcastResponse, Member, District)
            .join(Member, col(Member.id) == BroadcastResponse.member_id)
            .join(District, col(District.id) == Member.district_id, isouter=True)
            .where(BroadcastResponse.broadcast_id == broadcast_id,
                   BroadcastResponse.kind == ResponseKind.COMMENT)
            .order_by(col(BroadcastResponse.created_at)))).all()
    grouped: dict[str, list[Comment]] = defaultdict(list)
    for response, member, district in rows:
        grouped[district.name(lang) if district else "—"].append(
            Comment(member.full_name, member.municipality_other, response.text or "",
                    response.created_at))
    return dict(sorted(grouped.items()))


async def recent(db: Database, actor_id: int, limit: int = 10) -> list[Broadcast]:
    """The broadcasts this member may follow: all for staff, their own for a liaison."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_compose_broadcast(actor),
                            policy.Action.VIEW_BROADCAST_REPORT)
        query = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)
        if not actor.is_staff:
            query = query.where(Broadcast.created_by_id == actor_id)
        return list((await s.exec(query)).all())


async def still_sending(db: Database, broadcast_ids: list[int]) -> set[int]:
    """Which of these broadcasts still have messages waiting or on their way (the others, if
    sending, have finished)."""
    if not broadcast_ids:
        return set()
    async with db.read() as s:
        rows = await s.exec(
            select(Outbox.broadcast_id).where(
                col(Outbox.broadcast_id).in_(broadcast_ids),
                col(Outbox.status).in_((OutboxStatus.PENDING.value,
                                        OutboxStatus.SENDING.value))).distinct())
        return {int(r) for r in rows.all() if r is not None}


async def question(db: Database, response_id: int) -> tuple[BroadcastResponse, Member,
                                                              Broadcast] | None:
    """A member's question about a broadcast, for the notice to staff."""
    async with db.read() as s:
        response = await s.get(BroadcastResponse, response_id)
        if response is None:
            return None
        member = await s.get(Member, response.member_id)
        broadcast = await s.get(Broadcast, response.broadcast_id)
        if member is None or broadcast is None:
            return None
        return response, member, broadcast
