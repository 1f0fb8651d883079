"""The Union's position on a draft law, signed off by the district leaders.

Staff draft it (Kyrgyz and Russian text, a file) from the members' comments, then put it to the
district leaders (of all communities or the chosen ones) until a deadline: each answers once —
agree, agree with remarks, or disagree with a reason. One reminder goes a day before the deadline
(`bot/jobs/positions.py`). Staff read the tally by district and community with the remarks,
finalise the position, export it as a letter (DOCX, the dossier's letter style) and record it as
sent with its reference number.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import numeric_date
from bot.services import audit, notify, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.national_issues import check_document
from storage.db import Database
from storage.enums import BroadcastKind, MemberStatus, Role
from storage.models import (
    Broadcast,
    Community,
    District,
    LawPosition,
    Member,
    PositionVote,
    RoleAssignment,
)
from storage.types import utcnow

VOTES = ("agree", "remarks", "disagree")
TEXT_MAX = 4000
ADDRESSEE_MAX = 300
REMARK_MAX = 2000
DOCUMENTS_MAX = 5
REMIND_BEFORE = timedelta(hours=24)
DEADLINE_MIN = timedelta(hours=1)
DEADLINE_MAX = timedelta(days=90)
PRESET_DAYS = (3, 7, 14)
PRESET_HOUR = 18  # a preset deadline closes at 18:00 in Bishkek on its day
BISHKEK = ZoneInfo("Asia/Bishkek")
OUTBOX_SIGNOFF = "position_signoff"
OUTBOX_REMINDER = "position_reminder"


def _text(value: str, low: int, high: int, code: str) -> str:
    cleaned = (value or "").strip()
    if not low <= len(cleaned) <= high:
        raise InvalidInput(code, limit=high)
    return cleaned


async def _load(s: AsyncSession, position_id: int) -> LawPosition:
    found = await s.get(LawPosition, position_id)
    if found is None:
        raise NotFound(what="position")
    return found


async def _staff(db: Database, s: AsyncSession, actor_id: int, target: int | None = None
                 ) -> policy.Actor:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_manage_position(actor),
                        policy.Action.MANAGE_POSITION, target)
    return actor


async def draft_position(db: Database, actor_id: int, broadcast_id: int, addressee: str,
                         text_ky: str, text_ru: str,
                         documents: list[dict[str, Any]] | None = None) -> LawPosition:
    """Staff write the position on a draft law (a draft-law broadcast)."""
    addressee = _text(addressee, 3, ADDRESSEE_MAX, "position_addressee")
    text_ky = _text(text_ky, 10, TEXT_MAX, "position_text")
    text_ru = _text(text_ru, 10, TEXT_MAX, "position_text")
    docs = list(documents or [])
    if len(docs) > DOCUMENTS_MAX:
        raise InvalidInput("position_documents", limit=DOCUMENTS_MAX)
    checked = [{"file_id": str(d["file_id"]),
                **check_document(d.get("name"), d.get("size"), d.get("mime"))} for d in docs]
    async with db.transaction() as s:
        await _staff(db, s, actor_id, broadcast_id)
        broadcast = await s.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound(what="broadcast")
        if broadcast.kind != BroadcastKind.DRAFT_LAW:
            raise InvalidState("not_a_draft")
        position = LawPosition(broadcast_id=broadcast_id, addressee=addressee, text_ky=text_ky,
                               text_ru=text_ru, documents=checked, created_by_id=actor_id)
        s.add(position)
        await s.flush()
        audit.record(s, actor_id, "position_drafted", "law_position", position.id)
        return position


async def _leaders(s: AsyncSession, community_ids: list[int]) -> list[RoleAssignment]:
    query = (select(RoleAssignment).join(Member, col(Member.id) == RoleAssignment.member_id)
             .where(RoleAssignment.role == Role.DISTRICT_LEADER,
                    Member.status == MemberStatus.ACTIVE)
             .order_by(col(RoleAssignment.member_id), col(RoleAssignment.id)))
    if community_ids:
        query = query.where(col(RoleAssignment.community_id).in_(community_ids))
    return list((await s.exec(query)).all())


def preset_deadline(days: int, now: datetime | None = None) -> datetime:
    """`days` days from today, at 18:00 in Bishkek (one of `PRESET_DAYS`)."""
    if days not in PRESET_DAYS:
        raise InvalidInput("position_deadline")
    local = (now or utcnow()).astimezone(BISHKEK) + timedelta(days=days)
    return local.replace(hour=PRESET_HOUR, minute=0, second=0, microsecond=0).astimezone(UTC)


def check_deadline(deadline: datetime, now: datetime | None = None) -> datetime:
    """A sign-off deadline at least an hour and at most 90 days away."""
    now = now or utcnow()
    if not now + DEADLINE_MIN < deadline <= now + DEADLINE_MAX:
        raise InvalidInput("position_deadline", days=DEADLINE_MAX.days)
    return deadline


async def _chosen(s: AsyncSession, community_ids: list[int] | None) -> list[int]:
    chosen = sorted(set(community_ids or []))
    for cid in chosen:
        if await s.get(Community, cid) is None:
            raise InvalidInput("position_communities")
    return chosen


async def audience_size(db: Database, actor_id: int, position_id: int,
                        community_ids: list[int] | None = None) -> int:
    """How many district leaders a sign-off would ask (all, or those of the chosen
    communities), for the confirmation before it opens."""
    async with db.read() as s:
        await _staff(db, s, actor_id, position_id)
        position = await _load(s, position_id)
        if position.status != "draft":
            raise InvalidState("position_not_draft")
        chosen = await _chosen(s, community_ids)
        return len({r.member_id for r in await _leaders(s, chosen)})


async def open_signoff(db: Database, actor_id: int, position_id: int, deadline: datetime,
                       community_ids: list[int] | None = None) -> int:
    """Put the position to the district leaders until `deadline`; returns how many are asked."""
    check_deadline(deadline)
    async with db.transaction() as s:
        await _staff(db, s, actor_id, position_id)
        position = await _load(s, position_id)
        if position.status != "draft":
            raise InvalidState("position_not_draft")
        chosen = await _chosen(s, community_ids)
        if not await _leaders(s, chosen):
            raise InvalidInput("position_nobody")
        position.community_ids = chosen
        position.deadline = deadline
        position.status = "signoff"
        asked = sorted({r.member_id for r in await _leaders(s, chosen)})
        for member_id in asked:
            notify.enqueue(s, member_id, OUTBOX_SIGNOFF, position_id=position_id)
        audit.record(s, actor_id, "position_signoff", "law_position", position_id,
                     payload={"asked": len(asked)})
        return len(asked)


async def for_leader(db: Database, member_id: int, position_id: int) -> LawPosition:
    """The position as a leader asked to sign it off sees it."""
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
        position = await _load(s, position_id)
        await policy.ensure(db, actor, policy.can_sign_off_position(actor, position.community_ids)
                            and position.status != "draft",
                            policy.Action.SIGN_OFF_POSITION, position_id)
        return position


async def sign_off(db: Database, member_id: int, position_id: int, vote: str,
                   remark: str | None = None) -> PositionVote:
    """A district leader's answer, once, before the deadline. Remarks and a reason for
    disagreeing are required (2..2000 characters)."""
    if vote not in VOTES:
        raise InvalidInput("position_vote")
    note = None
    if vote != "agree":
        note = _text(remark or "", 2, REMARK_MAX, "position_remark")
    async with db.transaction() as s:
        actor = await policy.load_actor(s, member_id)
        position = await _load(s, position_id)
        await policy.ensure(db, actor, policy.can_sign_off_position(actor, position.community_ids)
                            and position.status != "draft",
                            policy.Action.SIGN_OFF_POSITION, position_id)
        if position.status != "signoff" or (position.deadline and position.deadline < utcnow()):
            raise InvalidState("signoff_closed")
        done = (await s.exec(select(PositionVote.id).where(
            PositionVote.position_id == position_id,
            PositionVote.member_id == member_id))).first()
        if done is not None:
            raise InvalidState("already_signed")
        grant = next(g for g in actor.grants if g.role == Role.DISTRICT_LEADER and (
            not position.community_ids or g.community_id in position.community_ids))
        row = PositionVote(position_id=position_id, member_id=member_id,
                           community_id=grant.community_id, district_id=grant.district_id,
                           vote=vote, remark=note)
        s.add(row)
        audit.record(s, member_id, "position_signed", "law_position", position_id,
                     payload={"vote": vote})
        return row


async def check_open(db: Database, member_id: int, position_id: int) -> None:
    """Before asking a leader for remarks: may they still answer?"""
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
        position = await _load(s, position_id)
        await policy.ensure(db, actor, policy.can_sign_off_position(actor, position.community_ids)
                            and position.status != "draft",
                            policy.Action.SIGN_OFF_POSITION, position_id)
        if position.status != "signoff" or (position.deadline and position.deadline < utcnow()):
            raise InvalidState("signoff_closed")
        done = (await s.exec(select(PositionVote.id).where(
            PositionVote.position_id == position_id,
            PositionVote.member_id == member_id))).first()
        if done is not None:
            raise InvalidState("already_signed")


async def run_reminders(db: Database, now: datetime | None = None) -> int:
    """The one reminder, a day before the deadline, to leaders who have not answered."""
    now = now or utcnow()
    sent = 0
    async with db.transaction() as s:
        due = (await s.exec(select(LawPosition).where(
            LawPosition.status == "signoff", col(LawPosition.reminded_at).is_(None),
            col(LawPosition.deadline) <= now + REMIND_BEFORE,
            col(LawPosition.deadline) > now))).all()
        for position in due:
            answered = set((await s.exec(select(PositionVote.member_id).where(
                PositionVote.position_id == position.id))).all())
            for member_id in sorted({r.member_id for r in
                                     await _leaders(s, position.community_ids)} - answered):
                notify.enqueue(s, member_id, OUTBOX_REMINDER, position_id=position.id)
                sent += 1
            position.reminded_at = now
    return sent


@dataclass
class TallyRow:
    district: str
    community: str
    leader: str
    vote: str | None  # None: not answered yet
    remark: str | None


@dataclass
class Tally:
    position: LawPosition
    counts: Counter[str] = field(default_factory=Counter)
    asked: int = 0
    rows: list[TallyRow] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(self.counts.values())


async def tally(db: Database, actor_id: int, position_id: int, lang: str) -> Tally:
    """Every leader asked, by district and community, with their answer and remarks."""
    async with db.read() as s:
        await _staff(db, s, actor_id, position_id)
        position = await _load(s, position_id)
        votes = {v.member_id: v for v in (await s.exec(select(PositionVote).where(
            PositionVote.position_id == position_id))).all()}
        leaders = await _leaders(s, position.community_ids)
        districts = {d.id: d.name(lang) for d in (await s.exec(select(District))).all()}
        communities = {c.id: c.name(lang) for c in (await s.exec(select(Community))).all()}
        names = {m.id: m.full_name for m in (await s.exec(select(Member).where(
            col(Member.id).in_({r.member_id for r in leaders} | set(votes))))).all()}
    result = Tally(position)
    seen: set[int] = set()
    for r in leaders:
        if r.member_id in seen:
            continue
        seen.add(r.member_id)
        v = votes.get(r.member_id)
        result.rows.append(TallyRow(
            districts.get(v.district_id if v else r.district_id, "—"),
            communities.get(v.community_id if v else r.community_id, "—"),
            names.get(r.member_id, "—"), v.vote if v else None, v.remark if v else None))
    for member_id, v in votes.items():
        result.counts[v.vote] += 1
        if member_id not in seen:  # no longer a leader: the answer still counts
            result.rows.append(TallyRow(districts.get(v.district_id, "—"),
                                        communities.get(v.community_id, "—"),
                                        names.get(member_id, "—"), v.vote, v.remark))
    result.asked = len(result.rows)
    result.rows.sort(key=lambda row: (row.district, row.community, row.leader))
    return result


async def finalise(db: Database, actor_id: int, position_id: int) -> LawPosition:
    async with db.transaction() as s:
        await _staff(db, s, actor_id, position_id)
        position = await _load(s, position_id)
        if position.status not in ("draft", "signoff"):
            raise InvalidState("position_final")
        position.status = "final"
        audit.record(s, actor_id, "position_final", "law_position", position_id)
        return position


async def record_sent(db: Database, actor_id: int, position_id: int,
                      reference: str) -> LawPosition:
    """The letter went out under this reference number."""
    number = _text(reference, 1, 100, "position_reference")
    async with db.transaction() as s:
        await _staff(db, s, actor_id, position_id)
        position = await _load(s, position_id)
        if position.status != "final":
            raise InvalidState("position_not_final")
        position.status = "sent"
        position.reference_number = number
        position.sent_at = utcnow()
        audit.record(s, actor_id, "position_sent", "law_position", position_id,
                     payload={"reference": number})
        return position


@dataclass(frozen=True)
class LetterWords:
    """The letter's words (built by the view in the letter's language)."""

    language: str
    to: str  # "To: {body}"
    title: str  # "The Union's position on {title}, {number} of {date}"
    intro: str
    tally: str  # "{agree} agreed, {remarks} with remarks, {disagree} disagreed of {asked}"
    remarks: str
    closing: str


async def letter_docx(db: Database, actor_id: int, position_id: int,
                      words: LetterWords) -> bytes:
    """The position as a letter to the committee or state body, in the dossier's style."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    found = await tally(db, actor_id, position_id, words.language)
    async with db.read() as s:
        position = await _load(s, position_id)
        broadcast = await s.get(Broadcast, position.broadcast_id)
        creator = await s.get(Member, position.created_by_id)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    to = doc.add_paragraph(words.to.format(body=position.addressee))
    to.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    heading = words.title.format(title=broadcast.title if broadcast else "—",
                                 number=f"L-{position.id}",
                                 date=numeric_date(position.sent_at or utcnow()))
    if position.reference_number:
        heading += f" (№ {position.reference_number})"
    doc.add_heading(heading, level=1)
    doc.add_paragraph(words.intro)
    text = position.text_ky if words.language == "ky" else position.text_ru
    for paragraph in text.split("\n"):
        if paragraph.strip():
            doc.add_paragraph(paragraph.strip())
    doc.add_paragraph(words.tally.format(agree=found.counts["agree"],
                                         remarks=found.counts["remarks"],
                                         disagree=found.counts["disagree"], asked=found.asked))
    remarks = [r for r in found.rows if r.remark]
    if remarks:
        doc.add_heading(words.remarks, level=2)
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, title in zip(table.rows[0].cells, ("", "", ""), strict=True):
            cell.text = title
        table.rows[0].cells[0].text = "№"
        for n, r in enumerate(remarks, start=1):
            cells = table.add_row().cells
            cells[0].text = str(n)
            cells[1].text = f"{r.district}, {r.community}"
            cells[2].text = r.remark or ""
    doc.add_paragraph("")
    doc.add_paragraph(words.closing)
    if creator is not None:
        doc.add_paragraph(creator.full_name)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


async def of_broadcast(db: Database, actor_id: int, broadcast_id: int) -> list[LawPosition]:
    async with db.read() as s:
        await _staff(db, s, actor_id, broadcast_id)
        return list((await s.exec(select(LawPosition).where(
            LawPosition.broadcast_id == broadcast_id).order_by(col(LawPosition.id)))).all())


async def get(db: Database, actor_id: int, position_id: int) -> LawPosition:
    async with db.read() as s:
        await _staff(db, s, actor_id, position_id)
        return await _load(s, position_id)
