"""How national issues and dossiers read: states, topics, the backing line, the issue card, the
words of the exports. Shared by the handlers, the raise flow and the outbox renderers, so a
member sees an issue the same way in a list, on its card and in a notice."""

from __future__ import annotations

import html

from bot.i18n import _, format_when, in_locale, ngettext, pgettext
from bot.services import national_issues as ni
from bot.services.issue_exports import Words
from bot.services.national_issues import Backing, IssueCard
from bot.views.people import shown_name
from storage.enums import DossierStatus, IssueState, IssueTopic


def state_label(state: IssueState | str) -> str:
    labels = {
        IssueState.NEW: "🆕 " + pgettext("national issue", "new"),
        IssueState.UNDER_REVIEW: "🔎 " + _("under review"),
        IssueState.FORWARDED: "📨 " + _("forwarded to the state body"),
        IssueState.RESPONDED: "📬 " + _("response received"),
        IssueState.RESOLVED: "✅ " + pgettext("national issue", "resolved"),
        IssueState.MERGED: "🔗 " + _("merged into another issue"),
        IssueState.DECLINED: "⛔ " + pgettext("national issue", "declined"),
    }
    return labels.get(IssueState(state), str(state))


def topic_label(topic: IssueTopic | str) -> str:
    labels = {
        IssueTopic.BUDGET: _("Budget and finance"),
        IssueTopic.LAND: _("Land and property"),
        IssueTopic.SERVICES: _("Municipal services"),
        IssueTopic.SOCIAL_ORDER: _("Social order"),
        IssueTopic.LEGAL: _("Legal questions"),
        IssueTopic.KENESH: _("Local kenesh work"),
        IssueTopic.UTILITIES: _("Waste and utilities"),
        IssueTopic.OTHER: _("Other"),
    }
    return labels.get(IssueTopic(topic), str(topic))


def dossier_status_label(status: DossierStatus | str) -> str:
    return {
        DossierStatus.DRAFT: _("being prepared"),
        DossierStatus.SENT: pgettext("dossier", "sent"),
        DossierStatus.ANSWERED: pgettext("dossier", "answered"),
    }.get(DossierStatus(status), str(status))


def clip(text: str | None, limit: int) -> str:
    """`text` escaped for HTML in at most `limit` characters, cut after a whole word with "…"."""
    escaped = html.escape(text or "")
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    size = 0
    for char in text or "":
        piece = html.escape(char)
        if size + len(piece) > limit - 1:
            if char != " " and any(p == " " for p in pieces):
                while pieces and pieces[-1] != " ":
                    pieces.pop()  # never end in the middle of a word
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces).rstrip(" ,.;:-–—(") + "…"


def fit(lines: list[str], limit: int = 3900) -> str:
    """Whole lines up to Telegram's message limit: a line, with its tags and entities, is never
    cut in two (that would break the HTML); what does not fit ends in "…"."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def backing_line(b: Backing) -> str:
    """"12 members · 9 municipalities · 5 districts · 3 regions"."""
    return " · ".join([
        ngettext("{count} member", "{count} members", b.members).format(count=b.members),
        ngettext("{count} municipality", "{count} municipalities",
                 b.municipalities).format(count=b.municipalities),
        ngettext("{count} district", "{count} districts", b.districts).format(count=b.districts),
        ngettext("{count} region", "{count} regions", b.regions).format(count=b.regions),
    ])


def card_text(c: IssueCard, lang: str) -> str:
    i = c.issue
    e = html.escape
    lines = [f"<b>{ni.short_id(i.id)} · {e(i.title)}</b>"]
    if i.restricted:
        lines.append("🔒 " + _("Restricted: only the Union staff and the author see it."))
    lines += [
        _("State: {state}").format(state=state_label(i.state)),
        _("Topic: {topic}").format(topic=topic_label(i.topic)),
        _("Who should act: {body}").format(body=e(c.body or "—")),
        _("Raised by {name}, {place}, {when}").format(
            name=e(shown_name(c.author)), place=e(c.place), when=format_when(i.created_at, lang)),
        "🤝 " + backing_line(c.backing),
    ]
    if c.districts:
        lines.append(_("Districts: {names}").format(names=e(", ".join(c.districts[:20]))))
    lines += ["", "<b>" + _("The problem") + "</b>", clip(i.problem, 1200)]
    if i.cause:
        lines += ["<b>" + _("What causes it") + "</b>", clip(i.cause, 600)]
    lines += ["<b>" + _("Proposed solution") + "</b>", clip(i.solution, 1200)]
    if i.documents:
        lines.append("📎 " + ngettext("{count} document", "{count} documents",
                                     len(i.documents)).format(count=len(i.documents)))
    if i.state == IssueState.MERGED and i.merged_into_id:
        lines.append("🔗 " + _("Merged into {id}.").format(id=ni.short_id(i.merged_into_id)))
    if i.decline_reason:
        lines.append("⛔ " + _("Reason: {reason}").format(reason=clip(i.decline_reason, 400)))
    if c.dossier is not None and c.dossier.reference_number:
        lines.append("📨 " + _("Sent on {when}, reference number {number}.").format(
            when=format_when(c.dossier.sent_at or c.dossier.created_at, lang),
            number=e(c.dossier.reference_number)))
    if i.response_text:
        lines += ["<b>" + _("Response of the state body") + "</b>", clip(i.response_text, 1500)]
    if c.cosigned:
        lines.append("✔️ " + _("You stand behind this issue."))
    if c.supporters:
        lines += ["", "<b>" + _("Co-signed by") + "</b>"]
        lines += [f"— {e(shown_name(s.name))}, {e(s.place)}"
                  + (f": {clip(s.comment, 150)}" if s.comment else "") for s in c.supporters]
    return fit(lines)


def export_words(lang: str) -> Words:
    """The words of an export in `lang` (the letter's language or the staff member's own)."""

    def backing(members: int, municipalities: int, districts: int) -> str:
        with in_locale(lang):
            return _("Supported by {members}, {municipalities}, {districts}.").format(
                members=ngettext("{count} member", "{count} members", members).format(
                    count=members),
                municipalities=ngettext("{count} municipality", "{count} municipalities",
                                        municipalities).format(count=municipalities),
                districts=ngettext("{count} district", "{count} districts",
                                   districts).format(count=districts))

    with in_locale(lang):
        return Words(
            language=lang,
            columns={
                "id": _("Number"), "title": _("Title"), "topic": _("Topic"),
                "state": _("State"), "body": _("State body"),
                "author_place": _("Raised in"), "members": _("Members"),
                "municipalities": _("Municipalities"), "districts": _("Districts"),
                "regions": _("Regions"), "district_names": _("Which districts"),
                "problem": _("The problem"), "cause": _("What causes it"),
                "solution": _("Proposed solution"), "raised": _("Raised on"),
                "dossier": _("Dossier"), "response": _("Response of the state body"),
                "restricted": _("Restricted"),
            },
            states={s.value: state_label(s).split(" ", 1)[1] for s in IssueState},
            topics={t.value: topic_label(t) for t in IssueTopic},
            yes=_("yes"), no=_("no"),
            letter_title=_("Appeal {number} of {date}"),
            letter_to=_("To: {body}"),
            letter_intro=_("The Union of Local Self-Government Bodies of the Kyrgyz Republic "
                           "brings to your attention the problems raised by local "
                           "self-government bodies and asks you to consider the proposed "
                           "solutions."),
            problem=_("The problem"), cause=_("What causes it"),
            solution=_("Proposed solution"), districts=_("Districts"),
            letter_closing=_("We ask you to inform the Union of the decisions taken."),
            backing=backing,
        )
