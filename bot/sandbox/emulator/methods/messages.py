"""Messages and edits: sendMessage, editMessage*, deleteMessage(s), and what sending shares.

``bot_send`` is the one way a bot message is stored: thread, reply, blocked chat, flood limit,
then the message and its event. Media senders (``files``) reuse it.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any

from bot.sandbox.emulator.limits import check_blocked, check_rate
from bot.sandbox.emulator.protocol import (
    CAPTION_LIMIT,
    INLINE_ACTIONS,
    JSON,
    NOT_MODIFIED,
    TEXT_LIMIT,
    ApiError,
    Params,
    bad,
)
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, Chat, EmulatorState, Msg
from bot.sandbox.formatting import EntityParseError, parse_text


def thread_for(chat: Chat, p: Params) -> int | None:
    thread_id = p.integer("message_thread_id")
    if not thread_id:
        return None
    if chat.is_forum:
        if thread_id not in chat.topics:
            raise bad("message thread not found")
        if thread_id in chat.closed_topics:
            raise bad("TOPIC_CLOSED")
        return thread_id
    if chat.type == "private" or thread_id not in chat.messages:
        raise bad("message thread not found")
    return None


def reply_target(chat: Chat, p: Params) -> Msg | None:
    reply = p.json("reply_parameters", "can't parse reply parameters JSON object")
    allow = p.flag("allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply", allow))
    else:
        message_id = p.integer("reply_to_message_id")
    if not message_id:
        return None
    try:
        target = chat.messages.get(int(message_id))
    except (TypeError, ValueError):
        raise bad("message to be replied not found") from None
    if target is None or target.deleted:
        if allow:
            return None
        raise bad("message to be replied not found")
    return target


def markup_for(p: Params) -> JSON | None:
    raw = p.raw.get("reply_markup")
    if raw is None or raw == "":
        return None
    markup = p.json("reply_markup", "can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                check_inline_button(button)
        return {"inline_keyboard": rows}
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        normalized = [[{"text": b} if isinstance(b, str) else b for b in row] for row in rows]
        for row in normalized:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad(
                        "can't parse keyboard button: KeyboardButton must be a String or an Object"
                    )
        return {**markup, "keyboard": normalized}
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad("can't parse reply keyboard markup JSON object")


def check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad("BUTTON_DATA_INVALID")
    elif "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not (
            url.startswith(("http://", "https://", "tg://", "ton://")) or "." in url
        ):
            raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    elif not any(key in button for key in INLINE_ACTIONS):
        raise bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def format_text(
    p: Params, key: str, *, required: bool
) -> tuple[str | None, list[JSON] | None, str | None]:
    """Return (plain text, entities, raw text) for ``text``/``caption``."""
    raw = p.string(key)
    if raw is None or not raw.strip():
        if required:
            raise bad("message text is empty")
        return None, None, None
    entities_key = "caption_entities" if key == "caption" else "entities"
    given = p.json(entities_key) if p.has(entities_key) else None
    parse_mode = None if isinstance(given, list) else p.string("parse_mode")
    try:
        plain, entities = parse_text(raw, parse_mode)
    except EntityParseError as error:
        raise bad(f"can't parse entities: {error}") from None
    except ValueError:
        raise bad("unsupported parse_mode") from None
    if isinstance(given, list):
        entities = given
    if not plain.strip():
        if required:
            raise bad("message text is empty")
        return None, None, raw
    if required and len(plain) > TEXT_LIMIT:
        raise bad("message is too long")
    if not required and len(plain) > CAPTION_LIMIT:
        raise bad("message caption is too long")
    return plain, entities or None, raw


def bot_send(
    emu: EmulatorState,
    ctx: BotCtx,
    chat: Chat,
    p: Params,
    content: JSON,
    *,
    raw_text: str | None,
    markup: JSON | None,
) -> JSON:
    thread_id = thread_for(chat, p)
    reply_to = reply_target(chat, p)
    check_blocked(emu, chat)
    check_rate(emu, chat)
    msg = emu._store_message(
        chat,
        ctx.user,
        content,
        from_bot=True,
        thread_id=thread_id,
        reply_to=reply_to,
        markup=markup,
        raw_text=raw_text,
        parse_mode=p.string("parse_mode") if raw_text is not None else None,
    )
    emu._emit(chat, "message", msg)
    return msg.data


@bot_method("sendMessage")
def send_message(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    text, entities, raw = format_text(p, "text", required=True)
    markup = markup_for(p)
    chat = emu._chat_for(p)
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    return bot_send(emu, ctx, chat, p, content, raw_text=raw, markup=markup)


def editable(emu: EmulatorState, p: Params, missing: str) -> tuple[Chat, Msg]:
    if p.has("inline_message_id"):
        raise bad("MESSAGE_ID_INVALID")
    chat = emu._chat_for(p)
    message_id = p.integer("message_id")
    if message_id is None:
        raise bad("message identifier is not specified")
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise bad(missing)
    return chat, msg


def apply_edit(
    emu: EmulatorState,
    chat: Chat,
    msg: Msg,
    changes: JSON,
    markup: JSON | None,
    raw: str | None,
    mode: str | None,
) -> JSON:
    data = dict(msg.data)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    if markup is None:
        data.pop("reply_markup", None)
    else:
        data["reply_markup"] = markup
    data["edit_date"] = int(time.time())
    msg.data = data
    msg.markup = markup
    if raw is not None:
        msg.raw_text = raw
        msg.parse_mode = mode
    msg.edit_count += 1
    emu._counters["edits_total"] += 1
    emu._emit(chat, "edit", msg)
    return data


def inline_markup(p: Params) -> JSON | None:
    markup = markup_for(p)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad("inline keyboard expected")
    return markup


@bot_method("editMessageText")
def edit_message_text(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    text, entities, raw = format_text(p, "text", required=True)
    markup = inline_markup(p)
    chat, msg = editable(emu, p, "message to edit not found")
    if not msg.from_bot:
        raise bad("message can't be edited")
    if "text" not in msg.data:
        raise bad("there is no text in the message to edit")
    if (
        msg.data.get("text") == text
        and msg.data.get("entities") == entities
        and msg.data.get("reply_markup") == markup
    ):
        raise bad(NOT_MODIFIED)
    check_rate(emu, chat)
    return apply_edit(
        emu, chat, msg, {"text": text, "entities": entities}, markup, raw, p.string("parse_mode")
    )


@bot_method("editMessageCaption")
def edit_message_caption(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    caption, entities, raw = format_text(p, "caption", required=False)
    markup = inline_markup(p)
    chat, msg = editable(emu, p, "message to edit not found")
    if not msg.from_bot:
        raise bad("message can't be edited")
    if "text" in msg.data:
        raise bad("there is no caption in the message to edit")
    if (
        msg.data.get("caption") == caption
        and msg.data.get("caption_entities") == entities
        and msg.data.get("reply_markup") == markup
    ):
        raise bad(NOT_MODIFIED)
    check_rate(emu, chat)
    return apply_edit(
        emu,
        chat,
        msg,
        {"caption": caption, "caption_entities": entities},
        markup,
        raw,
        p.string("parse_mode"),
    )


@bot_method("editMessageReplyMarkup")
def edit_message_reply_markup(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    markup = inline_markup(p)
    chat, msg = editable(emu, p, "message to edit not found")
    if not msg.from_bot:
        raise bad("message can't be edited")
    if msg.data.get("reply_markup") == markup:
        raise bad(NOT_MODIFIED)
    check_rate(emu, chat)
    return apply_edit(emu, chat, msg, {}, markup, None, None)


def delete(emu: EmulatorState, chat: Chat, msg: Msg) -> None:
    if chat.type != "private" and not msg.from_bot and not chat.bot_is_admin:
        raise bad("message can't be deleted")
    msg.deleted = True
    emu._counters["deletes_total"] += 1
    emu._emit(chat, "delete", msg)


@bot_method("deleteMessage")
def delete_message(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    chat, msg = editable(emu, p, "message to delete not found")
    delete(emu, chat, msg)
    return True


@bot_method("deleteMessages")
def delete_messages(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    chat = emu._chat_for(p)
    ids = p.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad("message_ids is empty")
    for message_id in ids:
        msg = chat.messages.get(int(message_id))
        if msg is not None and not msg.deleted:
            with suppress(ApiError):
                delete(emu, chat, msg)
    return True
