"""Renderers for questions and answers: the notices members get and the posts in the forum.

Each notice is rendered for its recipient through `questions.question_card`, so an anonymous
asker's name reaches only those the card shows it to (the group's moderators and Union staff), and
a notice about something the recipient may no longer read is dropped rather than sent.
"""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.attachments import attachments
from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import questions
from bot.services.errors import ServiceError
from bot.services.questions import QuestionCard
from bot.views.buttons import button, markup
from bot.views.callbacks import Qn
from bot.views.people import shown_name
from bot.views.questions import asker_name, card_asker, clip
from storage.db import Database
from storage.models import Answer, Member, Question, TopicGroup

NOTICE_CLIP = 800


async def _card(db: Database, to: Recipient, payload: dict[str, Any]) -> QuestionCard | None:
    try:
        return await questions.question_card(db, to.member_id, int(payload["question_id"]),
                                             to.language)
    except ServiceError:
        return None


async def _answer(db: Database, answer_id: int) -> tuple[Answer, str] | None:
    async with db.read() as s:
        answer = await s.get(Answer, answer_id)
        if answer is None or answer.hidden_reason is not None:
            return None
        author = await s.get(Member, answer.author_id)
        return answer, shown_name(author.full_name) if author else "?"


def _open(card: QuestionCard, answer: bool = False) -> Any:
    row = [button("👁 " + _("Open"), Qn(action="open", question_id=card.id))]
    if answer and card.can_answer and not card.is_asker:
        row.insert(0, button("✍️ " + _("Answer"), Qn(action="answer", question_id=card.id)))
    return markup([row])


def _head(card: QuestionCard) -> str:
    return f"{questions.label(card.id)} · «{html.escape(card.group_name)}»"


@renderer("question_new")
async def question_new(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    if card is None or card.status not in questions.VISIBLE:
        return None
    text = "❓ " + _("New question {label} from {name}:").format(
        label=_head(card), name=card_asker(card)) + "\n\n" + \
        html.escape(clip(card.text, NOTICE_CLIP))
    return Rendered(text, _open(card, answer=True))


@renderer("question_answered")
async def question_answered(db: Database, to: Recipient,
                            payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    found = await _answer(db, int(payload["answer_id"]))
    if card is None or found is None:
        return None
    answer, author = found
    text = "💬 " + _("{name} answered your question {label}:").format(
        name=html.escape(author), label=_head(card)) + "\n\n" + \
        html.escape(clip(answer.text, NOTICE_CLIP)) + "\n\n" + \
        _("If it answers you, open the question and accept it.")
    return Rendered(text, _open(card))


@renderer("answer_accepted")
async def answer_accepted(db: Database, to: Recipient,
                          payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    if card is None:
        return None
    return Rendered("✅ " + _("Your answer to {label} was accepted. Thank you!").format(
        label=_head(card)), _open(card))


@renderer("question_follow_up")
async def question_follow_up(db: Database, to: Recipient,
                             payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    found = await _answer(db, int(payload["answer_id"]))
    if card is None or found is None:
        return None
    text = "➕ " + _("The asker added to {label}:").format(label=_head(card)) + "\n\n" + \
        html.escape(clip(found[0].text, NOTICE_CLIP))
    return Rendered(text, _open(card, answer=True))


@renderer("question_resolved")
async def question_resolved(db: Database, to: Recipient,
                            payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    if card is None:
        return None
    return Rendered("✅ " + _("A moderator marked your question {label} resolved.").format(
        label=_head(card)), _open(card))


@renderer("question_duplicate")
async def question_duplicate(db: Database, to: Recipient,
                             payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    if card is None:
        return None
    original = int(payload["original_id"])
    return Rendered(
        "🔁 " + _("Your question {label} was closed: it was already asked as {original}. "
                  "The answers are there.").format(label=_head(card),
                                                    original=questions.label(original)),
        markup([[button("👁 " + questions.label(original),
                        Qn(action="open", question_id=original))]]))


@renderer("question_hidden")
async def question_hidden(db: Database, to: Recipient,
                          payload: dict[str, Any]) -> Rendered | None:
    async with db.read() as s:
        question = await s.get(Question, int(payload["question_id"]))
    if question is None or question.hidden_reason is None:
        return None
    return Rendered("🚫 " + _("A moderator hid your question {label}. Reason: {reason}").format(
        label=questions.label(question.id or 0), reason=html.escape(question.hidden_reason)))


@renderer("answer_hidden")
async def answer_hidden(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    async with db.read() as s:
        answer = await s.get(Answer, int(payload["answer_id"]))
    if answer is None or answer.hidden_reason is None:
        return None
    return Rendered("🚫 " + _("A moderator hid your answer to {label}. Reason: {reason}").format(
        label=questions.label(answer.question_id), reason=html.escape(answer.hidden_reason)))


@renderer("question_unanswered")
async def question_unanswered(db: Database, to: Recipient,
                              payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    if card is None or card.answers or card.status not in questions.VISIBLE:
        return None
    return Rendered("⏰ " + _("{label} has waited {hours} hours without an answer. As its "
                             "moderator, please answer it or find someone who can.").format(
        label=_head(card), hours=payload.get("hours", 24)) + "\n\n" +
        html.escape(clip(card.text, NOTICE_CLIP)), _open(card, answer=True))


@renderer("question_escalated")
async def question_escalated(db: Database, to: Recipient,
                             payload: dict[str, Any]) -> Rendered | None:
    card = await _card(db, to, payload)
    if card is None or card.answers or card.status not in questions.VISIBLE:
        return None
    return Rendered("⚠️ " + _("{label} is still unanswered after {hours} hours, although its "
                             "moderators were reminded.").format(
        label=_head(card), hours=payload.get("hours", 72)) + "\n\n" +
        html.escape(clip(card.text, NOTICE_CLIP)), _open(card, answer=True))


# --- the forum supergroup ----------------------------------------------------------------------


def _reply_hint() -> str:
    # The forum is shared by members of every language: the hint is in Kyrgyz and Russian.
    return "↩️ Жооп берүү үчүн бул билдирүүгө жооп жазыңыз. / " \
           "Чтобы ответить, ответьте на это сообщение."


@renderer("forum_question", after_sent=questions.record_forum_post)
async def forum_question(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    async with db.read() as s:
        question = await s.get(Question, int(payload["question_id"]))
        if question is None or question.status not in questions.VISIBLE:
            return None
        asker = await s.get(Member, question.asker_id)
        group = await s.get(TopicGroup, question.group_id)
    name = None if question.anonymous or asker is None else asker.full_name
    text = (f"<b>❓ {questions.label(question.id or 0)}</b> · {asker_name(name)}\n\n"
            f"{html.escape(clip(question.text, 3000))}\n\n{_reply_hint()}")
    return Rendered(text, thread_id=int(payload["thread_id"]) if group else None,
                    attachments=attachments(question.attachments))


@renderer("forum_answer", after_sent=questions.record_forum_post)
async def forum_answer(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await _answer(db, int(payload["answer_id"]))
    if found is None:
        return None
    answer, author = found
    async with db.read() as s:
        question = await s.get(Question, answer.question_id)
    if question is None or question.status not in questions.VISIBLE:
        return None
    text = (f"<b>💬 {questions.label(question.id or 0)}</b> · {html.escape(author)}\n\n"
            f"{html.escape(clip(answer.text, 3000))}")
    return Rendered(text, thread_id=int(payload["thread_id"]),
                    attachments=attachments(answer.attachments))
