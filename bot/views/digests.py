"""How a digest (and the morning queues summary) reads in the member's language.

The services hand over data (`bot.services.digests` payloads: section codes, counts, items); this
module words it with gettext plurals and Babel dates in Asia/Bishkek. A section added later
(legal cases, national issues) registers its heading in `HEADINGS` under its code, and any item
`note` words it uses in `NOTES`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.i18n import _, format_day, format_month, ngettext, pgettext
from storage.models import Named

LIMIT = 4096

HEADINGS: dict[str, tuple[str, Callable[[int], str]]] = {
    "new_questions": ("🆕", lambda n: ngettext(
        "{count} new question in your groups", "{count} new questions in your groups", n)),
    "answered": ("✅", lambda n: ngettext(
        "{count} question answered or resolved", "{count} questions answered or resolved", n)),
    "broadcasts": ("📢", lambda n: ngettext(
        "{count} broadcast you have not acknowledged",
        "{count} broadcasts you have not acknowledged", n)),
    "deadlines": ("⏰", lambda n: ngettext(
        "{count} comment deadline within a week", "{count} comment deadlines within a week", n)),
    "legal": ("⚖️", lambda n: ngettext(
        "{count} legal-help request waits for your reply",
        "{count} legal-help requests wait for your reply", n)),
    "national": ("📣", lambda n: ngettext(
        "{count} national issue you stand behind moved on",
        "{count} national issues you stand behind moved on", n)),
    "library": ("📚", lambda n: ngettext(
        "{count} new library item in your groups", "{count} new library items in your groups",
        n)),
    "overdue_cases": ("⚖️", lambda n: ngettext(
        "{count} legal case waits for its first response",
        "{count} legal cases wait for their first response", n)),
    "events_week": ("📅", lambda n: ngettext(
        "{count} event in the coming week", "{count} events in the coming week", n)),
    "event_materials": ("📎", lambda n: ngettext(
        "Materials of {count} event you attended", "Materials of {count} events you attended",
        n)),
    "surveys": ("📋", lambda n: ngettext(
        "{count} survey waits for your answer", "{count} surveys wait for your answer", n)),
    "survey_results": ("📊", lambda n: ngettext(
        "Results of {count} survey you were asked", "Results of {count} surveys you were asked",
        n)),
    "waiting_questions": ("⏳", lambda n: ngettext(
        "{count} question in your groups waits for an answer",
        "{count} questions in your groups wait for an answer", n)),
}

NOTES: dict[str, Callable[[str], str]] = {
    "answered": lambda when: pgettext("question", "answered"),
    "resolved": lambda when: pgettext("question", "resolved"),
    "comments_until": lambda when: _("comments until {date}").format(date=when),
    "asked": lambda when: _("asked {date}").format(date=when),
    "deadline": lambda when: _("deadline {date}").format(date=when),
    "opened": lambda when: _("opened {date}").format(date=when),
    "event_starts": lambda when: _("starts {date}").format(date=when),
    "event_materials": lambda when: _("materials posted {date}").format(date=when),
    "issue_review": lambda when: _("under review"),
    "issue_forwarded": lambda when: _("forwarded"),
    "issue_responded": lambda when: _("response received"),
    "issue_resolved": lambda when: pgettext("national issue", "resolved"),
    "issue_merged": lambda when: _("merged into another issue"),
    "issue_declined": lambda when: pgettext("national issue", "declined"),
}


def day_label(moment: datetime | str, locale: str, year: bool = False) -> str:
    """A date in the member's locale (Bishkek calendar day), e.g. «23 ноября»."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_day(moment, locale, year=year)


def item_line(item: Mapping[str, Any], locale: str, groups: Mapping[int, Named]) -> str:
    parts = [f"<b>{html.escape(str(item['ref']))}</b>"]
    group = groups.get(int(item["group"])) if item.get("group") is not None else None
    if group is not None:
        parts.append(html.escape(group.name(locale)))
    parts.append(html.escape(str(item["text"])))
    line = "• " + " · ".join(parts)
    note = NOTES.get(str(item.get("note") or ""))
    if note is not None:
        when = day_label(item["when"], locale) if item.get("when") else ""
        line += " — " + note(when)
    return line


def section_lines(section: Mapping[str, Any], locale: str,
                  groups: Mapping[int, Named]) -> list[str]:
    emoji, heading = HEADINGS.get(str(section["code"]), ("•", lambda n: str(n)))
    title = heading(int(section["count"])).format(count=section["count"])
    lines = [f"{emoji} <b>{title}</b>" + (" " + _("(continued)") if section.get("continued")
                                           else "")]
    lines += [item_line(i, locale, groups) for i in section["items"]]
    more = int(section.get("more") or 0)
    if more > 0:
        lines.append(ngettext("…and {count} more", "…and {count} more", more).format(count=more))
    return lines


def digest_text(payload: Mapping[str, Any], locale: str, groups: Mapping[int, Named]) -> str:
    """One message of a digest. Payloads are split between items so that this normally fits
    4,096 characters; should long group names still push it over, the last items give way to
    "…and N more" (summarised, never cut)."""
    sections = [{**s, "items": list(s["items"])} for s in payload.get("sections", [])]
    while True:
        text = _compose(payload, sections, locale, groups)
        if len(text) <= LIMIT:
            return text
        for section in reversed(sections):
            if section["items"]:
                section["items"].pop()
                section["more"] = int(section.get("more") or 0) + 1
                break
        else:
            return fit(text)


def _compose(payload: Mapping[str, Any], sections: list[dict[str, Any]], locale: str,
             groups: Mapping[int, Named]) -> str:
    frequency = payload.get("frequency")
    head = {"weekly": _("Your weekly digest"), "daily": _("Your daily digest"),
            "queues": _("Waiting for you today")}.get(str(frequency), _("Your digest"))
    since, until = payload.get("since"), payload.get("until")
    title = "📰 <b>" + head + "</b>"
    if since and until and frequency != "queues":
        title += "\n" + day_label(since, locale) + " – " + day_label(until, locale)
    parts = int(payload.get("parts") or 1)
    if parts > 1:
        title += f" ({payload.get('part', 1)}/{parts})"
    blocks = [title]
    for section in sections:
        blocks.append("\n".join(section_lines(section, locale, groups)))
    if frequency != "queues" and int(payload.get("part") or 1) == parts:
        blocks.append("⚙️ " + _("To change when the digest comes or turn it off: /settings"))
    return "\n\n".join(blocks)


def fit(text: str, limit: int = LIMIT) -> str:
    """Never more than Telegram allows: cut at a line, else a word boundary (a safety net)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = cut.rsplit("\n", 1)[0] if "\n" in cut else cut.rsplit(" ", 1)[0]
    return cut + "…"


BULLETIN_HEADINGS: dict[str, Callable[[], str]] = {
    "practice_of_month": lambda: _("Practice of the month"),
    "best_answers": lambda: _("Best answered questions of the month"),
    "month_broadcasts": lambda: _("Decisions and news sent this month"),
    "national_progress": lambda: _("National issues that moved on this month"),
    "survey_results": lambda: _("Survey results sent to members this month"),
}
BULLETIN_MAX = 3500  # a broadcast's text limit


def bulletin_text(parts: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], month: date,
                  locale: str, groups: Mapping[int, Named]) -> str:
    """The bulletin draft in one language, as plain text (a broadcast's text is not HTML)."""
    title = _("Bulletin of the Union of LSGs: {month}").format(
        month=format_month(month, locale))
    blocks = ["📰 " + title]
    for code, items in parts:
        if not items:
            continue
        wording = BULLETIN_HEADINGS.get(code)
        heading = wording() if wording is not None else code
        lines = [heading + ":"]
        for item in items:
            line = "• " + str(item["ref"])
            group = groups.get(int(item["group"])) if item.get("group") is not None else None
            if group is not None:
                line += " · " + group.name(locale)
            line += " · " + str(item["text"])
            note = str(item.get("note") or "")
            if note.startswith("votes:"):
                votes = int(note.split(":", 1)[1])
                line += " — " + ngettext("{count} useful vote", "{count} useful votes",
                                         votes).format(count=votes)
            elif note.startswith("used:"):
                _used, adopted, useful = note.split(":")
                line += " — " + _("used by {adopted}, useful to {useful}").format(
                    adopted=adopted, useful=useful)
            elif note in NOTES:
                line += " — " + NOTES[note]("")
            lines.append(line)
        blocks.append("\n".join(lines))
    if len(blocks) == 1:
        blocks.append(_("Nothing to report this month yet; write the bulletin yourself."))
    blocks.append(_("Ask and answer in Birge: /start"))
    return fit("\n\n".join(blocks), BULLETIN_MAX)
