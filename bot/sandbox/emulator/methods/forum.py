"""Forum topics: createForumTopic, editForumTopic, closeForumTopic, reopenForumTopic."""

from __future__ import annotations

from bot.sandbox.emulator.protocol import DEFAULT_TOPIC_COLOR, JSON, Params, bad
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, Chat, EmulatorState, Msg


def create_topic(
    emu: EmulatorState,
    chat: Chat,
    sender: JSON,
    name: str,
    icon_color: int,
    emoji: str | None,
    *,
    from_bot: bool,
) -> tuple[JSON, Msg]:
    created: JSON = {"name": name, "icon_color": icon_color}
    if emoji:
        created["icon_custom_emoji_id"] = emoji
    thread_id = chat.next_message_id
    msg = emu._store_message(
        chat,
        sender,
        {"forum_topic_created": created},
        from_bot=from_bot,
        thread_id=thread_id,
        reply_to=None,
    )
    topic = {"message_thread_id": thread_id, **created}
    chat.topics[thread_id] = topic
    return topic, msg


@bot_method("createForumTopic")
def create_forum_topic(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    chat = emu._chat_for(p)
    if chat.type != "supergroup" or not chat.is_forum:
        raise bad("the chat is not a forum")
    if not chat.bot_is_admin:
        raise bad("not enough rights to create a topic")
    name = p.string("name") or ""
    if not name.strip():
        raise bad("TOPIC_TITLE_EMPTY")
    if len(name) > 128:
        raise bad("TOPIC_TITLE_INVALID")
    topic, msg = create_topic(
        emu,
        chat,
        ctx.user,
        name,
        p.integer("icon_color") or DEFAULT_TOPIC_COLOR,
        p.string("icon_custom_emoji_id"),
        from_bot=True,
    )
    emu._emit(chat, "message", msg)
    return topic


def topic_for(emu: EmulatorState, p: Params) -> tuple[Chat, int]:
    chat = emu._chat_for(p)
    if not chat.is_forum:
        raise bad("the chat is not a forum")
    thread_id = p.integer("message_thread_id")
    if thread_id is None or thread_id not in chat.topics:
        raise bad("message thread not found")
    return chat, thread_id


@bot_method("editForumTopic")
def edit_forum_topic(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    chat, thread_id = topic_for(emu, p)
    topic = chat.topics[thread_id]
    name = p.string("name")
    if name:
        topic["name"] = name
    if p.has("icon_custom_emoji_id"):
        topic["icon_custom_emoji_id"] = p.string("icon_custom_emoji_id")
    return True


def toggle_topic(emu: EmulatorState, p: Params, *, closed: bool) -> bool:
    chat, thread_id = topic_for(emu, p)
    if closed:
        chat.closed_topics.add(thread_id)
    else:
        chat.closed_topics.discard(thread_id)
    return True


@bot_method("closeForumTopic")
def close_forum_topic(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    return toggle_topic(emu, p, closed=True)


@bot_method("reopenForumTopic")
def reopen_forum_topic(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    return toggle_topic(emu, p, closed=False)
