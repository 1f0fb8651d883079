"""Callback queries: answerCallbackQuery (a button press comes from ``control.press``)."""

from __future__ import annotations

import time

from bot.sandbox.emulator.protocol import JSON, QUERY_INVALID, Params, bad
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, EmulatorState


@bot_method("answerCallbackQuery")
def answer_callback_query(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    query_id = p.string("callback_query_id") or ""
    query = emu._callbacks.get(query_id)
    if query is None or query.answer is not None:
        raise bad(QUERY_INVALID)
    ttl = emu.callback_query_ttl
    if ttl and time.monotonic() - query.created > ttl:
        raise bad(QUERY_INVALID)
    text = p.string("text")
    if text is not None and len(text) > 200:
        raise bad("MESSAGE_TOO_LONG")
    answer: JSON = {
        "callback_query_id": query_id,
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.string("url"),
        "cache_time": p.integer("cache_time") or 0,
        "answered_at": time.time(),
    }
    query.answer = answer
    emu._counters["callback_answers"] += 1
    chat = emu._chats.get(query.chat_id)
    if chat is not None:
        msg = chat.messages.get(query.message_id)
        extra: JSON = {"callback_query_id": query_id, "answer": answer}
        if msg is None:
            extra["message_id"] = query.message_id
        emu._emit(chat, "answer", msg, extra)
    return True
