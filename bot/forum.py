"""The forum chats: one topic per topic group, made or renamed by Birge.

A group open to all members gets its topic in the shared forum supergroup (`FORUM_CHAT_ID`); a
practice community's group gets one only in that community's own forum chat (`FORUM_CHAT_IDS`),
never in the shared one (`bot.services.forums`). Questions and answers are posted into a topic's
thread by the outbox (kinds `forum_question` and `forum_answer`); replies there come back through
`bot.handlers.forum`. Without a forum nothing here runs and everything works in private chats.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.services import groups
from bot.services.forums import Forums
from storage.db import Database

log = logging.getLogger(__name__)


def _forums(value: Forums | int | None) -> Forums:
    return value if isinstance(value, Forums) else Forums(value)


async def sync_topics(bot: Bot, db: Database, forums: Forums | int | None,
                      language: str = "ky") -> int:
    """Move every group to the chat it may be mirrored in: forget a topic in a chat it may not
    use (a community group in the shared forum), create the missing ones. Returns how many were
    made. Failures are logged, not raised: a misconfigured forum must not stop Birge."""
    forums = _forums(forums)
    made = 0
    failed: set[int] = set()
    for group, code in await groups.groups_for_forums(db):
        assert group.id is not None
        want = forums.chat_for(code)
        have = group.forum_chat_id
        if have is None and group.forum_topic_id is not None and code is None:
            have = forums.shared  # a topic made before chats were recorded
            if have is not None:
                await groups.set_forum_topic(db, group.id, group.forum_topic_id, have)
        if group.forum_topic_id is not None and have != want:
            await groups.set_forum_topic(db, group.id, None, None)
            group.forum_topic_id = None
        if want is None or group.forum_topic_id is not None or group.archived_at is not None \
                or want in failed:
            continue
        try:
            topic = await bot.create_forum_topic(want, group.name(language)[:128])
        except TelegramAPIError as exc:
            log.warning("could not create a forum topic for group %s: %s", group.id, exc)
            failed.add(want)
            continue
        await groups.set_forum_topic(db, group.id, topic.message_thread_id, want)
        made += 1
    return made


async def rename_topic(bot: Bot, db: Database, forums: Forums | int | None, group_id: int,
                       language: str = "ky") -> None:
    forums = _forums(forums)
    if not forums.chats():
        return
    topic = await groups.forum_topic(db, group_id)
    if topic is None or topic[2] is None:
        await sync_topics(bot, db, forums, language)
        return
    thread_id, name, chat_id = topic
    assert chat_id is not None
    try:
        await bot.edit_forum_topic(chat_id, thread_id, name=name[:128])
    except TelegramAPIError as exc:
        log.warning("could not rename forum topic %s: %s", thread_id, exc)


async def close_topic(bot: Bot, db: Database, forums: Forums | int | None,
                      group_id: int) -> None:
    forums = _forums(forums)
    topic = await groups.forum_topic(db, group_id)
    if topic is not None and topic[2] is not None and topic[2] in forums.chats():
        try:
            await bot.close_forum_topic(topic[2], topic[0])
        except TelegramAPIError as exc:
            log.warning("could not close forum topic %s: %s", topic[0], exc)
