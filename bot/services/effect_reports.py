"""How adopted laws work out: a "law adopted" broadcast asks its recipients to report the law's
effect on their community (what changed, the problem, figures, a document); staff compile the
reports by district into the Union's report to the parliament (DOCX, XLSX)."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bot.i18n import numeric_date
from bot.services import audit, notify, policy
from bot.services.broadcasts import _as_recipient
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.national_issues import check_document
from storage.db import Database
from storage.enums import BroadcastKind
from storage.models import Broadcast, District, EffectReport, EffectRequest, Member, Outbox

CHANGED_MAX = PROBLEM_MAX = 2000
FIGURES_MAX = 500
OUTBOX_KIND = "effect_request"


async def request(db: Database, actor_id: int, broadcast_id: int) -> int:
    """Staff ask the recipients of a "law adopted" broadcast to report its effect; returns how
    many are asked (once per broadcast)."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_position(actor),
                            policy.Action.MANAGE_POSITION, broadcast_id)
        broadcast = await s.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound(what="broadcast")
        if broadcast.kind != BroadcastKind.LAW:
            raise InvalidState("effect_not_law")
        if await s.get(EffectRequest, broadcast_id) is not None:
            raise InvalidState("effect_requested")
        s.add(EffectRequest(broadcast_id=broadcast_id, by_id=actor_id))
        recipients = sorted({m for m in (await s.exec(select(Outbox.member_id).where(
            Outbox.broadcast_id == broadcast_id))).all() if m is not None})
        await notify.enqueue_many(s, recipients, OUTBOX_KIND, broadcast_id=broadcast_id)
        audit.record(s, actor_id, "effect_requested", "broadcast", broadcast_id)
        return len(recipients)


def _bounded(text: str | None, low: int, high: int, code: str, optional: bool = False
             ) -> str | None:
    cleaned = (text or "").strip()
    if optional and not cleaned:
        return None
    if not low <= len(cleaned) <= high:
        raise InvalidInput(code, limit=high)
    return cleaned


async def check_open(db: Database, member_id: int, broadcast_id: int) -> None:
    async with db.read() as s:
        await _as_recipient(s, member_id, broadcast_id)
        if await s.get(EffectRequest, broadcast_id) is None:
            raise InvalidState("effect_not_requested")
        done = (await s.exec(select(EffectReport.id).where(
            EffectReport.broadcast_id == broadcast_id,
            EffectReport.member_id == member_id))).first()
        if done is not None:
            raise InvalidState("effect_reported")


async def submit(db: Database, member_id: int, broadcast_id: int, changed: str,
                 problem: str | None = None, figures: str | None = None,
                 document: dict[str, Any] | None = None) -> EffectReport:
    """A member's report, once per law; nothing is written when a part is refused."""
    what = _bounded(changed, 2, CHANGED_MAX, "effect_length")
    assert what is not None
    trouble = _bounded(problem, 2, PROBLEM_MAX, "effect_length", optional=True)
    numbers = _bounded(figures, 1, FIGURES_MAX, "effect_length", optional=True)
    docs = [{"file_id": str(document["file_id"]), **check_document(
        document.get("name"), document.get("size"), document.get("mime"))}] if document else []
    async with db.transaction() as s:
        await _as_recipient(s, member_id, broadcast_id)
        if await s.get(EffectRequest, broadcast_id) is None:
            raise InvalidState("effect_not_requested")
        done = (await s.exec(select(EffectReport.id).where(
            EffectReport.broadcast_id == broadcast_id,
            EffectReport.member_id == member_id))).first()
        if done is not None:
            raise InvalidState("effect_reported")
        member = await s.get(Member, member_id)
        row = EffectReport(broadcast_id=broadcast_id, member_id=member_id,
                           district_id=member.district_id if member else None, changed=what,
                           problem=trouble, figures=numbers, documents=docs)
        s.add(row)
        audit.record(s, member_id, "effect_reported", "broadcast", broadcast_id)
        return row


@dataclass(frozen=True)
class CompiledRow:
    district: str
    member: str
    changed: str
    problem: str
    figures: str
    documents: int
    at: str


async def compiled(db: Database, actor_id: int, broadcast_id: int, lang: str
                   ) -> tuple[str, dict[str, list[CompiledRow]]]:
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_position(actor),
                            policy.Action.MANAGE_POSITION, broadcast_id)
        broadcast = await s.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound(what="broadcast")
        rows = (await s.exec(
            select(EffectReport, Member, District)
            .join(Member, col(Member.id) == EffectReport.member_id)
            .join(District, col(District.id) == EffectReport.district_id, isouter=True)
            .where(EffectReport.broadcast_id == broadcast_id)
            .order_by(col(EffectReport.id)))).all()
    groups: dict[str, list[CompiledRow]] = defaultdict(list)
    for report, member, district in rows:
        name = district.name(lang) if district else "—"
        groups[name].append(CompiledRow(name, member.full_name, report.changed,
                                        report.problem or "", report.figures or "",
                                        len(report.documents), numeric_date(report.created_at)))
    return broadcast.title, dict(sorted(groups.items()))


@dataclass(frozen=True)
class ReportWords:
    language: str
    title: str  # "How {title} works out in the communities"
    intro: str
    columns: tuple[str, str, str, str, str]  # member, what changed, problem, figures, date


async def report_docx(db: Database, actor_id: int, broadcast_id: int,
                      words: ReportWords) -> bytes:
    from docx import Document

    title, groups = await compiled(db, actor_id, broadcast_id, words.language)
    doc = Document()
    doc.add_heading(words.title.format(title=title), level=1)
    doc.add_paragraph(words.intro.format(count=sum(len(g) for g in groups.values()),
                                         districts=len(groups)))
    for district, rows in groups.items():
        doc.add_heading(f"{district} ({len(rows)})", level=2)
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, words.columns, strict=True):
            cell.text = name
        for r in rows:
            for cell, value in zip(table.add_row().cells,
                                   (r.member, r.changed, r.problem, r.figures, r.at),
                                   strict=True):
                cell.text = value
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


async def report_xlsx(db: Database, actor_id: int, broadcast_id: int,
                      words: ReportWords) -> bytes:
    from openpyxl import Workbook

    _title, groups = await compiled(db, actor_id, broadcast_id, words.language)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["district", *words.columns, "documents"])
    for district, rows in groups.items():
        for r in rows:
            sheet.append([district, r.member, r.changed, r.problem, r.figures, r.at,
                          r.documents])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
