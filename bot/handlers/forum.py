"""Replies in the forum supergroup's threads: a reply to a question's post (or to an answer's)
is recorded as an answer — or, from the asker, as a follow-up. Anything else there is ignored."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import Message

from bot.config import Settings
from bot.services import members, questions
from bot.services.errors import ServiceError
from bot.services.forums import forums_of
from storage.db import Database

log = logging.getLogger(__name__)
router = Router(name="forum")
router.message.filter(F.chat.type == "supergroup", F.reply_to_message)


@router.message(F.text | F.caption)
async def on_thread_reply(message: Message, db: Database, settings: Settings) -> None:
    if message.chat.id not in forums_of(settings).chats():
        return
    if message.from_user is None or message.reply_to_message is None:
        return
    question_id = await questions.question_for_forum_reply(
        db, message.reply_to_message.message_id, message.chat.id)
    if question_id is None:
        return
    member = await members.by_telegram(db, message.from_user.id)
    if member is None or not member.active:
        log.info("forum reply by a non-member %s ignored", message.from_user.id)
        return
    text = (message.text or message.caption or "").strip()
    try:
        card = await questions.question_card(db, member.id, question_id, member.language)
        if card.is_asker:
            await questions.follow_up(db, member.id, question_id, text)
        else:
            await questions.answer_question(db, member.id, question_id, text,
                                            forum_chat_id=forums_of(settings),
                                            forum_message_id=message.message_id)
    except ServiceError as exc:
        # The thread is shared: a refusal is logged, not posted there.
        log.info("forum reply to Q-%s not recorded: %s", question_id, exc)
