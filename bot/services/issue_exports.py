"""Exports of the bottom-up channel: a dossier as a DOCX letter, all issues as XLSX and CSV.

They are the material for the annual report to the President and for hearings in the Jogorku
Kenesh. Libraries: python-docx writes the letter (the maintained pure-Python DOCX writer; the
files open in Word and LibreOffice, and a test reads them back with the same library); openpyxl
writes the spreadsheet (pure Python, no office suite on the server); CSV with the standard
library, UTF-8 with a BOM so Excel shows Cyrillic correctly.

Services do not use gettext, so the caller passes the words (`Words`) in the wanted language:
the letter is in Russian by default (official correspondence) or Kyrgyz, the column headers in
the staff member's own language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import numeric_date
from bot.services import policy
from bot.services.errors import NotFound
from bot.services.national_issues import district_names, short_id
from storage.db import Database
from storage.enums import IssueState
from storage.models import District, Dossier, Member, Municipality, NationalIssue, StateBody

TIMEZONE = ZoneInfo("Asia/Bishkek")
COLUMNS = ("id", "title", "topic", "state", "body", "author_place", "members",
           "municipalities", "districts", "regions", "district_names", "problem", "cause",
           "solution", "raised", "dossier", "response", "restricted")


@dataclass(frozen=True)
class Words:
    """The words of an export in one language (built by `bot.views.issues`)."""

    language: str
    columns: dict[str, str]
    states: dict[str, str]
    topics: dict[str, str]
    yes: str
    no: str
    # The letter.
    letter_title: str
    letter_to: str
    letter_intro: str
    problem: str
    cause: str
    solution: str
    districts: str
    letter_closing: str
    backing: Callable[[int, int, int], str]  # members, municipalities, districts


@dataclass(frozen=True)
class Row:
    values: dict[str, object]


def _date(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return numeric_date(moment)


async def _ensure(db: Database, s: AsyncSession, actor_id: int,
                  target_id: int | None = None) -> None:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_export_issues(actor), policy.Action.EXPORT_ISSUES,
                        target_id)


async def _rows(s: AsyncSession, words: Words) -> list[Row]:
    lang = words.language
    issues = (await s.exec(select(NationalIssue).order_by(
        col(NationalIssue.municipalities_count).desc(), col(NationalIssue.id)))).all()
    bodies = {b.id: b.name(lang) for b in (await s.exec(select(StateBody))).all()}
    dossiers = {d.id: d for d in (await s.exec(select(Dossier))).all()}
    rows = []
    for issue in issues:
        municipality = (await s.get(Municipality, issue.municipality_id)
                        if issue.municipality_id else None)
        district = await s.get(District, issue.district_id) if issue.district_id else None
        place = ", ".join(p for p in (
            municipality.name(lang) if municipality else (issue.municipality_other or ""),
            district.name(lang) if district else "") if p)
        dossier = dossiers.get(issue.dossier_id) if issue.dossier_id else None
        dossier_text = ""
        if dossier is not None:
            dossier_text = f"X-{dossier.id}"
            if dossier.reference_number:
                dossier_text += f" № {dossier.reference_number}"
        rows.append(Row({
            "id": short_id(issue.id), "title": issue.title,
            "topic": words.topics.get(issue.topic, issue.topic),
            "state": words.states.get(issue.state, issue.state),
            "body": bodies.get(issue.state_body_id, "") if issue.state_body_id else "",
            "author_place": place, "members": issue.members_count,
            "municipalities": issue.municipalities_count, "districts": issue.districts_count,
            "regions": issue.regions_count,
            "district_names": ", ".join(await district_names(s, issue, lang)),
            "problem": issue.problem, "cause": issue.cause or "", "solution": issue.solution,
            "raised": _date(issue.created_at, lang), "dossier": dossier_text,
            "response": issue.response_text or "",
            "restricted": words.yes if issue.restricted else words.no,
        }))
    return rows


async def issues_csv(db: Database, actor_id: int, words: Words) -> str:
    """Every issue (restricted ones marked), one row each, headers in the staff's language."""
    async with db.read() as s:
        await _ensure(db, s, actor_id)
        rows = await _rows(s, words)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([words.columns[c] for c in COLUMNS])
    for row in rows:
        writer.writerow([row.values[c] for c in COLUMNS])
    return out.getvalue()


async def issues_xlsx(db: Database, actor_id: int, words: Words) -> bytes:
    # Imported here: the export libraries cost about 20 MB resident, for an action staff take
    # now and then.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    async with db.read() as s:
        await _ensure(db, s, actor_id)
        rows = await _rows(s, words)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "P"
    sheet.append([words.columns[c] for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.values[c] for c in COLUMNS])
    widths = {"title": 40, "problem": 60, "cause": 40, "solution": 60, "district_names": 40,
              "body": 40, "author_place": 30, "response": 50}
    for i, column in enumerate(COLUMNS):
        letter = sheet.cell(row=1, column=i + 1).column_letter
        sheet.column_dimensions[letter].width = widths.get(column, 14)
        if column in widths:
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def dossier_docx(db: Database, actor_id: int, dossier_id: int, words: Words) -> bytes:
    """The appeal to the state body: each issue with how many municipalities and which
    districts stand behind it, the problem, its cause and the proposed solution."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    async with db.read() as s:
        await _ensure(db, s, actor_id, dossier_id)
        dossier = await s.get(Dossier, dossier_id)
        if dossier is None:
            raise NotFound(what="dossier")
        body = await s.get(StateBody, dossier.state_body_id)
        creator = await s.get(Member, dossier.created_by_id)
        issues = (await s.exec(select(NationalIssue).where(
            NationalIssue.dossier_id == dossier_id,
            NationalIssue.state != IssueState.MERGED).order_by(
            col(NationalIssue.municipalities_count).desc(), col(NationalIssue.id)))).all()
        districts = {i.id: await district_names(s, i, words.language) for i in issues}
    lang = words.language
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    to = doc.add_paragraph(words.letter_to.format(body=body.name(lang) if body else "—"))
    to.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    heading = words.letter_title.format(number=f"X-{dossier.id}",
                                        date=_date(dossier.sent_at or dossier.created_at, lang))
    if dossier.reference_number:
        heading += f" (№ {dossier.reference_number})"
    doc.add_heading(heading, level=1)
    doc.add_paragraph(words.letter_intro)
    for n, issue in enumerate(issues, start=1):
        doc.add_heading(f"{n}. {issue.title} ({short_id(issue.id)})", level=2)
        doc.add_paragraph(words.backing(issue.members_count, issue.municipalities_count,
                                        issue.districts_count))
        if districts[issue.id]:
            doc.add_paragraph(f"{words.districts}: {', '.join(districts[issue.id])}")
        for label, text in ((words.problem, issue.problem), (words.cause, issue.cause),
                            (words.solution, issue.solution)):
            if text:
                para = doc.add_paragraph()
                para.add_run(label + ": ").bold = True
                para.add_run(text)
    doc.add_paragraph("")
    doc.add_paragraph(words.letter_closing)
    if creator is not None:
        doc.add_paragraph(creator.full_name)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
