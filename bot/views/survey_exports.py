"""A survey's answers as XLSX (one row per response, one column per question, and a summary
sheet) and CSV, with headers and answers in the staff member's language. openpyxl is imported
when a spreadsheet is written (idle memory), CSV is UTF-8 with a BOM so Excel reads Cyrillic."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import _
from bot.services import survey_forms as forms
from bot.services.surveys import ANONYMOUS_THRESHOLD, ExportRow, Results
from bot.views.surveys import region_rates, value_text
from storage.models import Survey

TIMEZONE = ZoneInfo("Asia/Bishkek")


def _header(survey: Survey, lang: str) -> list[str]:
    head = ["#"]
    if not survey.anonymous:
        head += [_("Member"), _("Municipality"), _("District"), _("Region"), _("Answered")]
    return head + [forms.label(q["label"], lang) for q in survey.questions]


def _row(survey: Survey, number: int, r: ExportRow, lang: str) -> list[str | int | float]:
    row: list[str | int | float] = [number]
    if not survey.anonymous:
        when = r.submitted_at.astimezone(TIMEZONE).strftime("%d.%m.%Y %H:%M") \
            if r.submitted_at else ""
        row += [r.who or "", r.municipality or "", r.district or "", r.region or "", when]
    for q in survey.questions:
        value = r.answers.get(q["name"])
        if q["type"] in ("number", "scale") and isinstance(value, int | float):
            row.append(value)
        else:
            row.append("" if value in (None, "", []) else value_text(q, value, lang))
    return row


def responses_csv(survey: Survey, rows: list[ExportRow], lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_header(survey, lang))
    for i, r in enumerate(rows, 1):
        writer.writerow(_row(survey, i, r, lang))
    return ("\ufeff" + out.getvalue()).encode()


def responses_xlsx(survey: Survey, rows: list[ExportRow], results: Results, lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = _("Responses")[:31]
    sheet.append(_header(survey, lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, r in enumerate(rows, 1):
        sheet.append(_row(survey, i, r, lang))
    _summary(wb.create_sheet(_("Summary")[:31]), survey, results, lang)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def summary_xlsx(results: Results, lang: str) -> bytes:
    """The summary sheet alone (figures, no one's answers): what goes to members with a
    survey's published results."""
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = _("Summary")[:31]
    _summary(sheet, results.survey, results, lang)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _summary(summary: Any, survey: Survey, results: Results, lang: str) -> None:
    summary.append([survey.title(lang)])
    summary.append([_("Invited"), results.invited])
    summary.append([_("Responded"), results.responded])
    summary.append([])
    summary.append([_("Region"), _("Invited"), _("Responded")])
    for region in region_rates(results):
        shown: str | int = f"< {ANONYMOUS_THRESHOLD}" if region.hidden else region.responded
        summary.append([region.region, region.invited, shown])
    summary.append([])
    summary.append([_("Region"), _("District"), _("Invited"), _("Responded")])
    for place in results.by_place:
        got: str | int = f"< {ANONYMOUS_THRESHOLD}" if place.hidden else place.responded
        summary.append([place.region, place.district, place.invited, got])
    for result in results.questions:
        q = result.question
        summary.append([])
        summary.append([forms.label(q["label"], lang), _("Answers: {count}").format(
            count=result.answered)])
        names = {c["name"]: forms.label(c["label"], lang) for c in q.get("choices", [])}
        if q["type"] == "ranking":
            for name, score in result.borda:
                summary.append([names.get(name, name), score])
        elif q["type"] in ("single", "multiple", "scale"):
            for name, count in result.counts.items():
                summary.append([names.get(name, name), count])
        if result.mean is not None:
            summary.append([_("mean: {value}").format(value=f"{result.mean:.2f}")])
