"""How questions, answers and groups read: one place for the card members see in the bot, the
notices about them and the forum posts, so every view of a question agrees."""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_when, ngettext, pgettext
from bot.services import questions
from bot.services.groups import GroupCard
from bot.services.questions import AnswerView, QuestionCard
from bot.views.buttons import Row, button, markup, short
from bot.views.callbacks import An, Gr, Qn
from bot.views.people import shown_name
from storage.enums import QuestionStatus

CARD_ANSWERS = 4
ANSWER_CLIP = 500
QUESTION_CLIP = 1200


def status_label(status: QuestionStatus | str) -> str:
    return {
        QuestionStatus.OPEN: "🟡 " + _("waiting for answers"),
        QuestionStatus.ANSWERED: "🔵 " + pgettext("question", "answered"),
        QuestionStatus.RESOLVED: "✅ " + pgettext("question", "resolved"),
        QuestionStatus.DUPLICATE: "🔁 " + _("closed as a duplicate"),
        QuestionStatus.HIDDEN: "🚫 " + _("hidden by a moderator"),
    }[QuestionStatus(status)]


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(None, 1)[0] if " " in text[:limit] else text[:limit]
    return cut + "…"


def asker_name(name: str | None) -> str:
    if name == "":
        return html.escape(shown_name(name))  # a member who deleted their account
    return html.escape(name) if name else "🕶 " + _("anonymous")


def card_asker(card: QuestionCard) -> str:
    """Who asked, as this viewer may know it: an anonymous question's asker is shown only to its
    group's moderators, the Union staff and the asker, and then marked so nobody reveals it."""
    if card.asker is None or not card.anonymous:
        return asker_name(card.asker)
    return html.escape(card.asker) + " · 🕶 " + _(
        "anonymous; only moderators and staff see the name")


def _answer_block(view: AnswerView, number: int, language: str) -> str:
    if view.is_follow_up:
        head = "➕ " + _("Follow-up from the asker")
    else:
        head = ("✅ " + _("Accepted answer") if view.accepted else f"💬 {number}.") + \
            " " + html.escape(shown_name(view.author))
    lines = [f"<b>{head}</b> · {format_when(view.created_at, language)}"]
    if view.hidden_reason is not None:
        lines.append("🚫 " + _("Hidden: {reason}").format(reason=html.escape(view.hidden_reason)))
    lines.append(html.escape(clip(view.text, ANSWER_CLIP)))
    extra = []
    if view.attachments:
        extra.append("📎 " + str(len(view.attachments)))
    if view.useful:
        extra.append("👍 " + str(view.useful))
    if extra:
        lines.append(" · ".join(extra))
    return "\n".join(lines)


def shown_answers(card: QuestionCard) -> list[AnswerView]:
    """The accepted answer first, then the latest ones."""
    accepted = [a for a in card.answers if a.accepted]
    rest = [a for a in card.answers if not a.accepted]
    return accepted + rest[-(CARD_ANSWERS - len(accepted)):] if rest else accepted


def question_text(card: QuestionCard, language: str) -> str:
    parts = [f"<b>❓ {questions.label(card.id)}</b> · {html.escape(card.group_name)}",
             f"{status_label(card.status)} · {format_when(card.created_at, language)}",
             _("Asked by: {name}").format(name=card_asker(card)), "",
             html.escape(clip(card.text, QUESTION_CLIP))]
    if card.attachments:
        parts.append("📎 " + ngettext("{count} file", "{count} files",
                                      len(card.attachments)).format(count=len(card.attachments)))
    if card.status == QuestionStatus.DUPLICATE and card.duplicate_of_id:
        parts += ["", _("This question was already asked: {label}.").format(
            label=questions.label(card.duplicate_of_id))]
    if card.status == QuestionStatus.HIDDEN and card.hidden_reason:
        parts += ["", _("Hidden: {reason}").format(reason=html.escape(card.hidden_reason))]
    answers = shown_answers(card)
    if answers:
        parts += ["", "— " + ngettext("{count} answer", "{count} answers",
                                      len(card.answers)).format(count=len(card.answers)) + " —"]
        numbered = {a.id: i + 1 for i, a in enumerate(x for x in card.answers
                                                      if not x.is_follow_up)}
        for view in answers:
            parts += ["", _answer_block(view, numbered.get(view.id, 0), language)]
        if len(answers) < len(card.answers):
            parts += ["", _("Earlier answers are not shown here.")]
    elif card.status in questions.VISIBLE:
        parts += ["", _("No answers yet.")]
    return "\n".join(parts)


def question_buttons(card: QuestionCard) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    answers = [a for a in shown_answers(card) if not a.is_follow_up]
    numbered = {a.id: i + 1 for i, a in enumerate(x for x in card.answers if not x.is_follow_up)}
    per_answer: list[Row] = []
    for view in answers:
        n = numbered.get(view.id, 0)
        row: Row = []
        if view.hidden_reason is None:
            if card.is_asker and not view.accepted and card.status in questions.VISIBLE:
                row.append(button("✅ " + _("Accept {n}").format(n=n),
                                  An(action="accept", answer_id=view.id)))
            elif not view.mine:
                row.append(button("👍 " + _("Useful {n}").format(n=n),
                                  An(action="useful", answer_id=view.id)))
            if view.attachments:
                row.append(button("📎 " + str(n), An(action="files", answer_id=view.id)))
            if card.moderates:
                row.append(button("🚫 " + _("Hide {n}").format(n=n),
                                  An(action="hide", answer_id=view.id)))
        per_answer.append(row)
    if card.status in questions.VISIBLE:
        main: Row = []
        if card.can_answer and not card.is_asker:
            main.append(button("✍️ " + _("Answer"), Qn(action="answer", question_id=card.id)))
        if card.is_asker:
            main.append(button("➕ " + _("Follow-up"), Qn(action="follow", question_id=card.id)))
        if card.attachments:
            main.append(button("📎 " + _("Files"), Qn(action="files", question_id=card.id)))
        rows.append(main)
    rows += per_answer
    if card.moderates and card.status in questions.VISIBLE:
        mod: Row = []
        if card.status != QuestionStatus.RESOLVED:
            mod.append(button("✔️ " + _("Resolved"), Qn(action="resolve", question_id=card.id)))
        mod += [button("🔁 " + _("Duplicate"), Qn(action="dup", question_id=card.id)),
                button("🚫 " + _("Hide"), Qn(action="hide", question_id=card.id))]
        rows.append(mod)
    rows.append([button("👥 " + short(card.group_name, 30),
                        Gr(action="open", group_id=card.group_id))])
    return markup(rows)


def group_text(card: GroupCard, language: str) -> str:
    parts = [f"<b>👥 {html.escape(card.name)}</b>"]
    if card.description:
        parts.append(html.escape(card.description))
    if card.archived:
        parts.append("🗄 " + _("This group is archived: its answers stay, new questions are "
                              "not taken."))
    parts.append("")
    parts.append(ngettext("{count} member", "{count} members", card.members).format(
        count=card.members))
    if card.moderators:
        parts.append(_("Moderators: {names}").format(
            names=html.escape(", ".join(name for _id, name in card.moderators))))
    else:
        parts.append(_("No moderators yet."))
    if card.recent:
        parts += ["", "<b>" + _("Recent questions") + "</b>"]
        for line in card.recent:
            parts.append(f"{status_label(line.status)[:2]} {questions.label(line.id)} "
                         f"{html.escape(clip(line.text, 90))}")
    return "\n".join(parts)
