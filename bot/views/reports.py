"""/stats and the annual report: the figures as text, PNG charts (bars, drawn like the survey
charts: matplotlib imported only when drawing) and an XLSX; the report's words."""

from __future__ import annotations

import io
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.services import annual_report, stats
from bot.views.buttons import Row, button, markup, short
from bot.views.callbacks import Actions, ButtonId
from bot.views.issues import state_label
from bot.views.survey_charts import COLOR, _figure, _png, _wrap
from storage.enums import IssueState
from storage.models import AnnualReport, Survey

ReportAction = Annotated[str, Actions("pick", "create", "card", "consult", "docx", "final",
                                      "comment")]


class Ar(CallbackData, prefix="ar"):
    """The annual report: pick surveys, create, consultation, DOCX, finalise, comment."""

    action: ReportAction
    report_id: ButtonId = 0
    survey_id: ButtonId = 0


def bar_png(title: str, data: dict[str, float], percent: bool = False) -> bytes:
    """Horizontal bars of `data` (at most 20 largest), labelled."""
    fig, ax = _figure()
    items = sorted(data.items(), key=lambda kv: kv[1], reverse=True)[:20][::-1]
    labels = [_wrap(k, 30) for k, _v in items]
    values = [v for _k, v in items]
    ax.barh(range(len(values)), values, color=COLOR)
    ax.set_yticks(range(len(values)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_title(title, fontsize=10)
    if percent:
        ax.set_xlim(0, 100)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:g}{'%' if percent else ''}", va="center", fontsize=7)
    return _png(fig, left=0.32)


def charts(f: stats.Figures) -> list[tuple[str, bytes]]:
    """Call in a worker thread inside `in_locale`: each chart a few hundred milliseconds."""
    found = []
    if f.by_region:
        found.append((_("Members by region"), bar_png(_("Members by region"),
                                                      {k: float(v) for k, v in
                                                       f.by_region.items()})))
    if f.questions:
        found.append((_("Questions by topic group"), bar_png(
            _("Questions by topic group"), {k: float(v[0]) for k, v in f.questions.items()})))
    if f.broadcasts:
        found.append((_("Acknowledged, % of delivered"), bar_png(
            _("Acknowledged, % of delivered"),
            {k: stats.rate(v[2], v[1]) for k, v in f.broadcasts.items()}, percent=True)))
    if f.issues_by_state:
        found.append((_("National issues by state"), bar_png(
            _("National issues by state"),
            {issue_state(k): float(v) for k, v in f.issues_by_state.items()})))
    if f.issues_by_region:
        found.append((_("National issues by region"), bar_png(
            _("National issues by region"),
            {k: float(v) for k, v in f.issues_by_region.items()})))
    if f.surveys:
        found.append((_("Survey response rate, %"), bar_png(
            _("Survey response rate, %"),
            {k: stats.rate(v[1], v[0]) for k, v in f.surveys.items()}, percent=True)))
    return found


def issue_state(state: str) -> str:
    try:
        return state_label(IssueState(state))
    except ValueError:
        return state


def summary(f: stats.Figures) -> str:
    recipients, delivered, acked = f.reach
    asked = sum(v[0] for v in f.questions.values())
    answered = sum(v[1] for v in f.questions.values())
    invited = sum(v[0] for v in f.surveys.values())
    responded = sum(v[1] for v in f.surveys.values())
    lines = [
        "<b>" + _("Birge in figures") + "</b>",
        _("Members: {members}; active in the last 30 days: {active}").format(
            members=f.members, active=f.active),
        _("Questions: {asked} asked, {answered} answered").format(asked=asked,
                                                                  answered=answered),
        _("Legal desk: {count} requests").format(count=f.legal_total),
        _("Broadcasts: {delivered} of {recipients} delivered, {acked} acknowledged "
          "({rate}%)").format(delivered=delivered, recipients=recipients, acked=acked,
                              rate=stats.rate(acked, delivered)),
        _("National issues: {count}").format(count=sum(f.issues_by_state.values())),
        _("Surveys: {responded} of {invited} responded ({rate}%)").format(
            responded=responded, invited=invited, rate=stats.rate(responded, invited)),
    ]
    if f.by_region:
        lines += ["", "<b>" + _("Members by region") + "</b>"]
        lines += [f"{k}: {v} ({f.active_by_region.get(k, 0)})" for k, v in f.by_region.items()]
    if f.questions:
        lines += ["", "<b>" + _("Questions by topic group") + "</b>"]
        lines += [_("{group}: {asked} asked, {answered} answered, median {hours} h").format(
            group=k, asked=a, answered=b, hours="—" if m is None else m)
            for k, (a, b, m) in f.questions.items()]
    return "\n".join(lines)[:4000]


def stats_xlsx(f: stats.Figures) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheets: list[tuple[str, list[str], list[list[object]]]] = [
        (_("Members"), [_("Region"), _("Members"), _("Active in 30 days")],
         [[k, v, f.active_by_region.get(k, 0)] for k, v in f.by_region.items()]),
        (_("Districts"), [_("District"), _("Members")], [[k, v] for k, v in
                                                       f.by_district.items()]),
        (_("Communities"), [_("Community"), _("Members")],
         [[k, v] for k, v in f.by_community.items()]),
        (_("Questions"), [_("Topic group"), _("Asked"), _("Answered"), _("Median hours")],
         [[k, a, b, m] for k, (a, b, m) in f.questions.items()]),
        (_("Legal desk"), [_("Category"), _("Requests")],
         [[k, v] for k, v in f.legal_by_category.items()]),
        (_("Broadcasts"), [_("Broadcast"), _("Recipients"), _("Delivered"), _("Acknowledged")],
         [[k, *v] for k, v in f.broadcasts.items()]),
        (_("Issues by state"), [_("State"), _("Issues")],
         [[issue_state(k), v] for k, v in f.issues_by_state.items()]),
        (_("Issues by body"), [_("State body"), _("Issues")],
         [[k, v] for k, v in f.issues_by_body.items()]),
        (_("Surveys"), [_("Survey"), _("Invited"), _("Responded")],
         [[k, *v] for k, v in f.surveys.items()]),
    ]
    first = True
    for title, header, rows in sheets:
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = title[:31]
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_words(lang: str) -> annual_report.ReportWords:
    return annual_report.ReportWords(
        language=lang, title=_("Annual report of the Union of LSGs, {year}"), draft=_("draft"),
        members=(_("Members by region"), _("Region"), _("Members"), _("Active in 30 days")),
        questions=(_("Questions by topic group"), _("Topic group"), _("Asked"), _("Answered"),
                   _("Median hours")),
        legal=(_("Legal desk"), _("Category"), _("Requests")),
        broadcasts=(_("Broadcasts"), _("Broadcast"), _("Recipients"), _("Delivered"),
                    _("Acknowledged")),
        issues=(_("National issues by region"), _("Region"), _("Issues")),
        outcomes=(_("National issues and their outcomes"), _("Issue"), _("State body"),
                  _("State"), _("Outcome")),
        surveys=(_("Indicator survey"), _("Region"), _("Invited"), _("Responded")),
        comments=_("Comments of the consultation round"),
        states={s.value: issue_state(s.value) for s in IssueState},
        chart_caption=lambda caption: caption)


def pick_keyboard(year: int, surveys: list[Survey], picked: list[int],
                  lang: str) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    for s in surveys:
        assert s.id is not None
        mark = "☑️ " if s.id in picked else "⬜ "
        rows.append([button(mark + short(s.title_ky if lang == "ky" else s.title_ru, 50),
                            Ar(action="pick", survey_id=s.id))])
    rows.append([button("✅ " + _("Create the draft"), Ar(action="create"))])
    return markup(rows)


def report_card(r: AnnualReport) -> str:
    status = {"draft": _("draft"), "consultation": _("in consultation"),
              "final": _("final")}.get(r.status, r.status)
    return _("Annual report {year}: {status}").format(year=r.year, status=status)


def report_keyboard(r: AnnualReport) -> InlineKeyboardMarkup:
    assert r.id is not None
    rows: list[Row] = [[button("📄 DOCX", Ar(action="docx", report_id=r.id))]]
    if r.status == "draft":
        rows.append([button("🗣 " + _("Open the consultation"),
                            Ar(action="consult", report_id=r.id))])
    if r.status != "final":
        rows.append([button("✅ " + _("Finalise"), Ar(action="final", report_id=r.id))])
    return markup(rows)
