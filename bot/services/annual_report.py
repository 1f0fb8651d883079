"""The annual report to the President, as a process: staff start it for a year and pick the
indicator surveys; a consultation round lets district leaders and liaisons comment on the draft;
staff finalise it. The DOCX compiles the year's figures (`stats`), the picked surveys' results by
region (`survey_results`) and the national issues with their outcomes, in tables and charts."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, notify, policy, stats, survey_results
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import MemberStatus, Role
from storage.models import (
    AnnualReport,
    AnnualReportComment,
    Member,
    NationalIssue,
    RoleAssignment,
    StateBody,
    Survey,
)
from storage.types import utcnow

BISHKEK = ZoneInfo("Asia/Bishkek")
COMMENT_MAX = 2000
OUTBOX_CONSULT = "annual_consultation"


def year_bounds(year: int) -> tuple[datetime, datetime]:
    if not 2000 <= year <= 2100:
        raise InvalidInput("report_year")
    return (datetime(year, 1, 1, tzinfo=BISHKEK).astimezone(UTC),
            datetime(year + 1, 1, 1, tzinfo=BISHKEK).astimezone(UTC))


async def _load(s: AsyncSession, report_id: int) -> AnnualReport:
    found = await s.get(AnnualReport, report_id)
    if found is None:
        raise NotFound(what="report")
    return found


async def start(db: Database, actor_id: int, year: int,
                survey_ids: list[int] | None = None) -> AnnualReport:
    """A draft report for `year`; refused when the year holds no data at all."""
    begin, end = year_bounds(year)
    found = await stats.figures(db, actor_id, begin, end)
    if not (found.questions or found.broadcasts or found.issues_by_state or found.surveys
            or found.legal_total):
        raise InvalidInput("report_no_data", year=year)
    chosen = sorted(set(survey_ids or []))
    async with db.transaction() as s:
        await stats.ensure_staff(db, s, actor_id)
        for sid in chosen:
            if await s.get(Survey, sid) is None:
                raise InvalidInput("report_surveys")
        row = AnnualReport(year=year, survey_ids=chosen, created_by_id=actor_id)
        s.add(row)
        await s.flush()
        audit.record(s, actor_id, "annual_report_started", "annual_report", row.id)
        return row


async def open_consultation(db: Database, actor_id: int, report_id: int) -> int:
    """District leaders and liaisons are asked to comment on the draft; returns how many."""
    async with db.transaction() as s:
        await stats.ensure_staff(db, s, actor_id)
        report = await _load(s, report_id)
        if report.status != "draft":
            raise InvalidState("report_not_draft")
        report.status = "consultation"
        asked = sorted(set((await s.exec(
            select(RoleAssignment.member_id)
            .join(Member, col(Member.id) == RoleAssignment.member_id)
            .where(col(RoleAssignment.role).in_([Role.DISTRICT_LEADER, Role.STATE_LIAISON]),
                   Member.status == MemberStatus.ACTIVE))).all()))
        for member_id in asked:
            notify.enqueue(s, member_id, OUTBOX_CONSULT, report_id=report_id)
        audit.record(s, actor_id, "annual_report_consultation", "annual_report", report_id)
        return len(asked)


async def comment(db: Database, member_id: int, report_id: int, text: str) -> None:
    note = (text or "").strip()
    if not 2 <= len(note) <= COMMENT_MAX:
        raise InvalidInput("reply_length", limit=COMMENT_MAX)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, member_id)
        await policy.ensure(db, actor, policy.can_comment_annual_report(actor),
                            policy.Action.COMMENT_ANNUAL_REPORT, report_id)
        report = await _load(s, report_id)
        if report.status != "consultation":
            raise InvalidState("report_not_in_consultation")
        s.add(AnnualReportComment(report_id=report_id, member_id=member_id, text=note))
        audit.record(s, member_id, "annual_report_commented", "annual_report", report_id)


async def check_comment(db: Database, member_id: int, report_id: int) -> AnnualReport:
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
        await policy.ensure(db, actor, policy.can_comment_annual_report(actor),
                            policy.Action.COMMENT_ANNUAL_REPORT, report_id)
        report = await _load(s, report_id)
        if report.status != "consultation":
            raise InvalidState("report_not_in_consultation")
        return report


async def finalise(db: Database, actor_id: int, report_id: int) -> AnnualReport:
    async with db.transaction() as s:
        await stats.ensure_staff(db, s, actor_id)
        report = await _load(s, report_id)
        if report.status == "final":
            raise InvalidState("report_final")
        report.status = "final"
        report.finalised_at = utcnow()
        audit.record(s, actor_id, "annual_report_final", "annual_report", report_id)
        return report


async def get(db: Database, actor_id: int, report_id: int) -> AnnualReport:
    async with db.read() as s:
        await stats.ensure_staff(db, s, actor_id)
        return await _load(s, report_id)


@dataclass(frozen=True)
class ReportWords:
    """Headings and column names in the report's language (built by the view)."""

    language: str
    title: str  # "Annual report {year}"
    draft: str
    members: tuple[str, str, str, str]  # heading, region, members, active in 30 days
    questions: tuple[str, str, str, str, str]  # heading, group, asked, answered, median hours
    legal: tuple[str, str, str]  # heading, category, cases
    broadcasts: tuple[str, str, str, str, str]  # heading, broadcast, recipients, delivered, ack
    issues: tuple[str, str, str]  # heading (by region), region, issues
    outcomes: tuple[str, str, str, str, str]  # heading, issue, body, state, response
    surveys: tuple[str, str, str, str]  # heading, region, invited, responded
    comments: str
    states: dict[str, str]
    chart_caption: Callable[[str], str]


@dataclass(frozen=True)
class Compiled:
    report: AnnualReport
    figures: stats.Figures
    surveys: list[survey_results.Results]
    issues: list[tuple[NationalIssue, str]]
    comments: list[tuple[str, str]]


async def compile_data(db: Database, actor_id: int, report_id: int, lang: str) -> Compiled:
    async with db.read() as s:
        await stats.ensure_staff(db, s, actor_id)
        report = await _load(s, report_id)
    begin, end = year_bounds(report.year)
    found = await stats.figures(db, actor_id, begin, end, lang)
    picked = [await survey_results.results(db, actor_id, sid, lang) for sid in report.survey_ids]
    async with db.read() as s:
        bodies = {b.id: b.name(lang) for b in (await s.exec(select(StateBody))).all()}
        issues = (await s.exec(select(NationalIssue).where(
            col(NationalIssue.created_at) >= begin, col(NationalIssue.created_at) < end,
            col(NationalIssue.restricted).is_(False), NationalIssue.state != "merged")
            .order_by(col(NationalIssue.municipalities_count).desc(),
                      col(NationalIssue.id)))).all()
        comments = (await s.exec(select(AnnualReportComment, Member).join(
            Member, col(Member.id) == AnnualReportComment.member_id).where(
            AnnualReportComment.report_id == report_id).order_by(
            col(AnnualReportComment.id)))).all()
    return Compiled(report, found, picked,
                    [(i, bodies.get(i.state_body_id, "—")) for i in issues],
                    [(m.full_name, c.text) for c, m in comments])


def _table(doc: object, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, header, strict=True):
        cell.text = name
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = "" if value is None else str(value)


def report_docx(data: Compiled, words: ReportWords, charts: list[tuple[str, bytes]]) -> bytes:
    """The report: tables of figures by region, the issues with outcomes, the surveys picked,
    the charts (PNG) and, while in consultation, the comments received."""
    from docx import Document
    from docx.shared import Inches

    f = data.figures
    doc = Document()
    title = words.title.format(year=data.report.year)
    if data.report.status != "final":
        title += f" ({words.draft})"
    doc.add_heading(title, level=0)
    doc.add_heading(words.members[0], level=1)
    _table(doc, words.members[1:], [(r, n, f.active_by_region.get(r, 0))
                                    for r, n in f.by_region.items()])
    doc.add_heading(words.questions[0], level=1)
    _table(doc, words.questions[1:], [(g, a, b, m if m is not None else "—")
                                      for g, (a, b, m) in f.questions.items()])
    doc.add_heading(words.legal[0], level=1)
    _table(doc, words.legal[1:], list(f.legal_by_category.items()))
    doc.add_heading(words.broadcasts[0], level=1)
    _table(doc, words.broadcasts[1:], [(t, r, d, a) for t, (r, d, a) in f.broadcasts.items()])
    doc.add_heading(words.issues[0], level=1)
    _table(doc, words.issues[1:], list(f.issues_by_region.items()))
    doc.add_heading(words.outcomes[0], level=1)
    _table(doc, words.outcomes[1:], [
        (f"P-{i.id} {i.title}", body, words.states.get(i.state, i.state),
         i.response_text or i.decline_reason or "") for i, body in data.issues])
    for result in data.surveys:
        survey = result.survey
        name = survey.title_ky if words.language == "ky" else survey.title_ru
        doc.add_heading(f"{words.surveys[0]}: {name}", level=1)
        by_region: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for place in result.by_place:
            by_region[place.region][0] += place.invited
            by_region[place.region][1] += place.responded
        _table(doc, words.surveys[1:], [(r, a, b) for r, (a, b) in sorted(by_region.items())])
    for caption, png in charts:
        doc.add_paragraph(words.chart_caption(caption))
        doc.add_picture(io.BytesIO(png), width=Inches(6))
    if data.comments:
        doc.add_heading(words.comments, level=1)
        for who, text in data.comments:
            para = doc.add_paragraph()
            para.add_run(who + ": ").bold = True
            para.add_run(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
