"""The forum supergroup (`FORUM_CHAT_ID`): one topic per topic group, made or renamed by Birge.

Questions and answers are posted into a topic's thread by the outbox (kinds `forum_question` and
`forum_answer`); replies there come back through `bot.handlers.forum`. Without a forum nothing
here runs and everything works in private chats.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.services import groups
from storage.db import Database

log = logging.getLogger(__name__)


async def sync_topics(bot: Bot, db: Database, chat_id: int | None,
                      language: str = "ky") -> int:
    """Create the missing topics; returns how many were made. Failures are logged, not raised:
    a forum that is misconfigured must not stop Birge."""
    if chat_id is None:
        return 0
    made = 0
    for group in await groups.groups_needing_topics(db):
        try:
            topic = await bot.create_forum_topic(chat_id, group.name(language)[:128])
        except TelegramAPIError as exc:
            log.warning("could not create a forum topic for group %s: %s", group.id, exc)
            break
        await groups.set_forum_topic(db, group.id or 0, topic.message_thread_id)
        made += 1
    return made


async def rename_topic(bot: Bot, db: Database, chat_id: int | None, group_id: int,
                       language: str = "ky") -> None:
    if chat_id is None:
        return
    topic = await groups.forum_topic(db, group_id)
    if topic is None:
        await sync_topics(bot, db, chat_id, language)
        return
    thread_id, name = topic
    try:
        await bot.edit_forum_topic(chat_id, thread_id, name=name[:128])
    except TelegramAPIError as exc:
        log.warning("could not rename forum topic %s: %s", thread_id, exc)


async def close_topic(bot: Bot, db: Database, chat_id: int | None, group_id: int) -> None:
    if chat_id is None:
        return
    topic = await groups.forum_topic(db, group_id)
    if topic is not None:
        try:
            await bot.close_forum_topic(chat_id, topic[0])
        except TelegramAPIError as exc:
            log.warning("could not close forum topic %s: %s", topic[0], exc)
