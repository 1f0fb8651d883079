"""How the legal desk looks: category and state names, a case with its timeline, the buttons
each viewer gets, and the date picker. Shared by the intake flow, the desk's handlers and the
notices, so a case reads the same everywhere."""

from __future__ import annotations

import html
from calendar import monthrange
from datetime import date

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_day, format_month, format_when, pgettext, weekday_names
from bot.services import legal
from bot.services.legal import CaseView
from bot.views.buttons import Row, button, markup, short
from bot.views.buttons import rating_row as stars_row
from bot.views.callbacks import Lc, Pick
from storage.enums import LegalCategory, LegalEventKind, LegalStatus
from storage.models import LegalCase

BISHKEK = legal.BISHKEK
CARD_MAX = 3900


def category_label(category: LegalCategory | str) -> str:
    labels = {
        LegalCategory.LAND: _("Land and property"),
        LegalCategory.BUDGET: _("Local budget and taxes"),
        LegalCategory.SERVICES: _("Municipal services"),
        LegalCategory.PERSONNEL: _("Personnel and labour of municipal staff"),
        LegalCategory.KENESH: _("Local kenesh procedure and ethics"),
        LegalCategory.CHARTER: _("Charter of the local community"),
        LegalCategory.PROCUREMENT: _("Social order and procurement"),
        LegalCategory.STATE: _("Relations with state bodies"),
        LegalCategory.OTHER: _("Other"),
    }
    return labels.get(LegalCategory(category), str(category))


def status_label(status: LegalStatus | str) -> str:
    labels = {
        LegalStatus.NEW: "🆕 " + pgettext("legal request", "new"),
        LegalStatus.IN_PROGRESS: "🔧 " + _("in progress"),
        LegalStatus.NEEDS_INFO: "❓ " + _("waiting for the requester"),
        LegalStatus.ANSWERED: "✉️ " + pgettext("legal request", "answered"),
        LegalStatus.CLOSED: "✅ " + pgettext("legal request", "closed"),
    }
    return labels.get(LegalStatus(status), str(status))


def event_label(kind: LegalEventKind | str) -> str:
    labels = {
        LegalEventKind.OPENED: _("request opened"),
        LegalEventKind.TAKEN: _("taken by the lawyer"),
        LegalEventKind.ASSIGNED: _("assigned to a lawyer"),
        LegalEventKind.INFO_REQUESTED: _("asks for more information"),
        LegalEventKind.REPLY: _("message"),
        LegalEventKind.ANSWER: _("answer"),
        LegalEventKind.CLOSED: pgettext("legal request", "closed"),
        LegalEventKind.REOPENED: _("reopened"),
        LegalEventKind.RATED: _("rating"),
        LegalEventKind.PREPARED: _("prepared for the knowledge base"),
        LegalEventKind.FEEDBACK: _("comment on the help"),
    }
    return labels.get(LegalEventKind(kind), str(kind))


def case_line(case: LegalCase, locale: str) -> str:
    """One case as a list button: `L-45 · Land and property · 25 Dec 2026`."""
    parts = [legal.case_code(case.id or 0), category_label(case.category)]
    if case.deadline is not None:
        parts.append("⏰ " + format_day(case.deadline, locale))
    return short(" · ".join(parts), 60)


def _head(view: CaseView, locale: str) -> str:
    case = view.case
    head = [f"⚖️ <b>{legal.case_code(case.id or 0)}</b> · {category_label(case.category)}",
            _("State: {state}").format(state=status_label(case.status)),
            _("Requester: {name}").format(name=html.escape(view.requester)),
            _("Lawyer: {name}").format(name=html.escape(view.assignee) if view.assignee
                                       else _("not assigned yet"))]
    if case.deadline is not None:
        head.append(_("Deadline: {date}").format(date=format_day(case.deadline, locale)))
    if case.act:
        head.append(_("Act or decision: {act}").format(act=html.escape(case.act)))
    if case.rating is not None:
        head.append(_("Rating: {stars}").format(stars="⭐" * case.rating))
    return "\n".join(head)


def timeline(view: CaseView, locale: str) -> list[str]:
    """Every entry of the case, oldest first: who, when, what, and the documents."""
    entries = []
    for entry in view.entries:
        who = html.escape(entry.author or "—")
        line = f"<i>{format_when(entry.event.created_at, locale)}</i> · <b>{who}</b>: " \
            f"{event_label(entry.event.kind)}"
        if entry.event.text and entry.event.kind != LegalEventKind.RATED:
            line += "\n" + html.escape(entry.event.text)
        for doc in entry.documents:
            line += "\n📎 " + html.escape(doc.name)
        entries.append(line[:CARD_MAX])
    return entries


def case_card(view: CaseView, locale: str) -> tuple[str, bool]:
    """The case and its timeline in one message, and whether it had to leave entries out:
    when too long, the oldest entries after the request itself give way to the newest."""
    head = _head(view, locale)
    entries = timeline(view, locale)
    shown = entries[:1]
    rest: list[str] = []
    budget = CARD_MAX - len(head) - len(shown[0] if shown else "") - 40
    cut = False
    for line in reversed(entries[1:]):
        if budget - len(line) - 2 < 0:
            rest.insert(0, "…")
            cut = True
            break
        budget -= len(line) + 2
        rest.insert(0, line)
    return (head + "\n\n" + "\n\n".join(shown + rest))[:4000], cut


def timeline_messages(view: CaseView, locale: str) -> list[str]:
    """The whole case as a few messages, for a timeline too long for one."""
    messages = [_head(view, locale)]
    for line in timeline(view, locale):
        if len(messages[-1]) + len(line) + 2 > CARD_MAX:
            messages.append(line)
        else:
            messages[-1] += "\n\n" + line
    return messages


def case_buttons(view: CaseView, cut: bool = False) -> InlineKeyboardMarkup:
    case = view.case
    cid = case.id or 0
    rows: list[Row] = []
    if cut:
        rows.append([button("📜 " + _("Whole timeline"), Lc(action="all", case_id=cid))])
    if view.can_take:
        rows.append([button("🙋 " + _("Take the case"), Lc(action="take", case_id=cid))])
    if view.can_work:
        rows.append([button("✍️ " + _("Answer"), Lc(action="answer", case_id=cid)),
                     button("❓ " + _("Ask for information"), Lc(action="info", case_id=cid))])
        rows.append([button("👥 " + _("Assign to a colleague"), Lc(action="assign", case_id=cid)),
                     button("✅ " + _("Close the case"), Lc(action="close", case_id=cid))])
    if view.is_requester:
        if case.status != LegalStatus.CLOSED:
            rows.append([button("💬 " + _("Write to the lawyer"),
                                Lc(action="reply", case_id=cid))])
        else:
            rows.append([button("🔄 " + _("Reopen"), Lc(action="reopen", case_id=cid))])
            if case.rating is None:
                rows.append(rating_row(cid))
            if case.publish_consent is None:
                rows.append([button("✅ " + _("Yes, publish without names"),
                                    Lc(action="pubyes", case_id=cid)),
                             button("🚫 " + _("Do not publish"),
                                    Lc(action="pubno", case_id=cid))])
    if view.can_publish:
        rows.append([button("📚 " + _("Prepare for the knowledge base"),
                            Lc(action="publish", case_id=cid))])
    if view.documents:
        rows.append([button("📎 " + _("Documents ({count})").format(count=len(view.documents)),
                            Lc(action="docs", case_id=cid))])
    return markup(rows)


def rating_row(case_id: int) -> Row:
    return stars_row(lambda n: Lc(action="rate", case_id=case_id, value=n))


def open_button(case_id: int) -> Row:
    return [button("📂 " + _("Open the case"), Lc(action="open", case_id=case_id))]


def calendar(year: int, month: int, locale: str, today: date, month_step: str = "ldm",
             day_step: str = "ldd") -> list[Row]:
    """A month of day buttons (Monday first) with ◀ ▶ to move; past days are not offered.
    `month_step` and `day_step` name the `Pick` steps, so another flow can reuse it."""
    days = weekday_names(locale)
    rows: list[Row] = []
    title = format_month(date(year, month, 1), locale)
    prev_month = (year - (month == 1), (month - 2) % 12 + 1)
    next_month = (year + (month == 12), month % 12 + 1)
    nav: Row = []
    if (year, month) > (today.year, today.month):
        nav.append(button("◀", Pick(step=month_step, value=f"{prev_month[0]}-{prev_month[1]}")))
    nav.append(button(title.capitalize(), Pick(step=month_step, value=f"{year}-{month}")))
    if (year, month) < (today.year + 2, today.month):
        nav.append(button("▶", Pick(step=month_step, value=f"{next_month[0]}-{next_month[1]}")))
    rows.append(nav)
    rows.append([button(days[i], Pick(step=month_step, value=f"{year}-{month}")) for i in range(7)])
    first_weekday, length = monthrange(year, month)
    cells: Row = [button(" ", Pick(step=month_step, value=f"{year}-{month}"))] * first_weekday
    for day in range(1, length + 1):
        if date(year, month, day) < today:
            cells.append(button("·", Pick(step=month_step, value=f"{year}-{month}")))
        else:
            cells.append(button(str(day), Pick(step=day_step, value=f"{year}-{month}-{day}")))
    while len(cells) % 7:
        cells.append(button(" ", Pick(step=month_step, value=f"{year}-{month}")))
    rows += [cells[i:i + 7] for i in range(0, len(cells), 7)]
    return rows
