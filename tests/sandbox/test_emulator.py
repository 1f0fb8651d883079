"""Tests for the Bot API emulator, driven by a real aiogram Bot/Dispatcher and the client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from bot.sandbox.client import EmulatorClient, EmulatorError
from bot.sandbox.emulator import NOT_MODIFIED, BotAPIEmulator, run_emulator
from bot.sandbox.formatting import EntityParseError, parse_html, parse_text

TOKEN = "123456:TEST"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000280000001e00806000000"  # 640x480 header
)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


async def registered(client: EmulatorClient, user_id: int = 42, name: str = "Aida") -> None:
    await client.add_user(user_id, name, language_code="ky")


# ----------------------------------------------------------- real dispatcher


@pytest.mark.asyncio
async def test_dispatcher_echo_and_inline_button(bot: Bot, client: EmulatorClient) -> None:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        assert message.text is not None
        await message.answer(message.text, reply_markup=keyboard(("Tap", "tap")))

    @router.callback_query(F.data == "tap")
    async def tapped(query: CallbackQuery) -> None:
        await query.answer("Tapped", show_alert=True)
        assert isinstance(query.message, Message)
        await query.message.edit_text("Tapped!")

    dp = Dispatcher()
    dp.include_router(router)
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    try:
        aida = client.person(42, "Aida", username="aida")
        sent = await aida.send("Салам!")
        assert sent["text"] == "Салам!" and sent["chat"]["type"] == "private"

        echoed = await aida.reply()
        assert echoed["text"] == "Салам!"
        assert echoed["from"]["is_bot"] is True
        assert echoed["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "tap"
        assert aida.last_bot_message() == echoed

        pressed = await aida.press("Tap")
        assert pressed["data_present"] is True
        edited = await aida.reply()
        assert edited["message_id"] == echoed["message_id"]
        assert edited["text"] == "Tapped!" and edited["edited"] is True
        assert "reply_markup" not in edited  # edit without markup removes the keyboard
        answer = await aida.answer()
        assert answer is not None and answer["text"] == "Tapped" and answer["show_alert"]

        transcript = await aida.transcript()
        assert [m["from_bot"] for m in transcript] == [False, True]
        assert transcript[1]["edit_count"] == 1
        assert len(await client.calls("answerCallbackQuery")) == 1
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


# ------------------------------------------------------------- basics


@pytest.mark.asyncio
async def test_get_me_and_commands(bot: Bot, client: EmulatorClient) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "birge_test_bot", True)
    await client.config(bot_username="other_bot")
    assert (await bot.get_me()).username == "other_bot"

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(
        [BotCommand(command="start", description="Баштоо")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="ky",
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    ky = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ky")
    assert [c.description for c in ky] == ["Баштоо"]
    assert await bot.get_my_commands(language_code="ru") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert len(await client.commands()) == 1

    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.get_updates() == []


# ------------------------------------------------------------- refusals


@pytest.mark.asyncio
async def test_send_message_refusals(bot: Bot, client: EmulatorClient) -> None:
    await registered(client)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(42, "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(42, "a" * 4097)
    assert (await bot.send_message(42, "a" * 4096)).text == "a" * 4096
    tagged = await bot.send_message(42, "<b>" + "&lt;" * 4096 + "</b>", parse_mode="HTML")
    assert tagged.text == "<" * 4096
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(42, "<i>" + "x" * 4097 + "</i>", parse_mode="HTML")
    with pytest.raises(
        TelegramBadRequest,
        match="can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ):
        await bot.send_message(42, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div" at byte offset 3'):
        await bot.send_message(42, "hi <div>x</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "" at byte offset 2'):
        await bot.send_message(42, "a < b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(999, "hello")
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(42, "x", reply_markup=keyboard(("big", "ы" * 33)))
    assert await bot.send_message(42, "x", reply_markup=keyboard(("ok", "d" * 64)))
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(42, BufferedInputFile(b"x", filename="a.txt"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            42,
            "x",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="t")]]),
        )
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(42, "x", reply_parameters=ReplyParameters(message_id=777))
    stats = await client.stats()
    assert stats["calls"]["sendMessage"]["400"] == 10


@pytest.mark.asyncio
async def test_edit_and_delete_refusals(bot: Bot, client: EmulatorClient) -> None:
    await registered(client)
    msg = await bot.send_message(
        42, "<b>one</b>", parse_mode="HTML", reply_markup=keyboard(("A", "a"))
    )
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text(
            "<b>one</b>", chat_id=42, message_id=msg.message_id, parse_mode="HTML",
            reply_markup=keyboard(("A", "a")),
        )  # fmt: skip
    assert info.value.message == "Bad Request: " + NOT_MODIFIED
    # Same text but the keyboard is dropped: that *is* a modification.
    edited = await bot.edit_message_text(
        "<b>one</b>", chat_id=42, message_id=msg.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message) and edited.reply_markup is None and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=42, message_id=msg.message_id)
    assert await bot.edit_message_reply_markup(
        chat_id=42, message_id=msg.message_id, reply_markup=keyboard(("B", "b"))
    )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=9999)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(42, 9999)
    assert await bot.delete_message(42, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(42, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("again", chat_id=42, message_id=msg.message_id)
    [stored] = await client.transcript(42)
    assert stored["deleted"] is True and stored["edit_count"] == 2
    assert stored["raw_text"] == "<b>one</b>" and stored["text"] == "one"


@pytest.mark.asyncio
async def test_blocked_user_gets_403_and_my_chat_member(bot: Bot, client: EmulatorClient) -> None:
    await bot.get_me()  # the emulator learns the bot id from the token
    aida = client.person(42, "Aida")
    await aida.block()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(42, "news")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(42, "typing")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    await aida.send("/start")  # writing to the bot un-blocks it, like "Restart" in Telegram
    assert await bot.send_message(42, "welcome back")


@pytest.mark.asyncio
async def test_global_and_per_chat_rate_limits(bot: Bot, client: EmulatorClient) -> None:
    await registered(client, 1)
    await registered(client, 2)
    await client.config(rate_limit_per_second=3)
    for i in range(3):
        await bot.send_message(1 + i % 2, f"m{i}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(1, "too fast")
    assert info.value.retry_after >= 1
    assert "Too Many Requests: retry after" in info.value.message
    await client.config(rate_limit_per_second=0, per_chat_per_second=1)
    await bot.send_message(1, "ok")
    await bot.send_message(2, "other chat is fine")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(1, "second in the same second")
    stats = await client.stats()
    assert stats["rate_limited"] == 2 and stats["responses_429"] == 2


@pytest.mark.asyncio
async def test_injected_429_and_500(bot: Bot, client: EmulatorClient) -> None:
    await registered(client)
    await client.fail(1, "429", retry_after=7, methods=["sendMessage"])
    assert await bot.get_me()  # not a listed method: unaffected
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(42, "x")
    assert info.value.retry_after == 7
    await client.fail(2, "500")
    with pytest.raises(TelegramServerError):
        await bot.send_message(42, "x")
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    assert await bot.get_updates() == []  # getUpdates is only failed when listed
    assert (await bot.send_message(42, "recovered")).text == "recovered"
    statuses = [c["status"] for c in await client.calls("sendMessage")]
    assert statuses == [429, 500, 200]


@pytest.mark.asyncio
async def test_injected_failure_for_one_chat_only(bot: Bot, client: EmulatorClient) -> None:
    await registered(client)
    await registered(client, 7, "Nurlan")
    await client.fail(1, "500", methods=["sendMessage"], chat_id=42)
    assert (await bot.send_message(7, "another chat")).text == "another chat"
    with pytest.raises(TelegramServerError):
        await bot.send_message(42, "x")
    assert (await bot.send_message(42, "recovered")).text == "recovered"


@pytest.mark.asyncio
async def test_injected_timeout_is_network_error(bot: Bot, client: EmulatorClient) -> None:
    await registered(client)
    await client.fail(1, "timeout", hold_seconds=5)
    started = time.monotonic()
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(42, "lost", request_timeout=1)
    assert time.monotonic() - started < 2
    assert (await bot.send_message(42, "next")).message_id == 1  # nothing was stored


# ------------------------------------------------------------- files


@pytest.mark.asyncio
async def test_user_document_upload_get_file_and_download(bot: Bot, client: EmulatorClient) -> None:
    aida = client.person(42, "Aida")
    sent = await aida.upload("document", b"%PDF-1.4 report", filename="report.pdf", caption="Арыз")
    document = sent["document"]
    assert document["file_name"] == "report.pdf" and document["mime_type"] == "application/pdf"
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert update.message.caption == "Арыз"
    file = await bot.get_file(update.message.document.file_id)
    assert file.file_path and file.file_size == len(b"%PDF-1.4 report")
    data = await bot.download(update.message.document.file_id)
    assert data is not None and data.read() == b"%PDF-1.4 report"
    assert await client.file(document["file_id"]) == b"%PDF-1.4 report"

    photo = await aida.upload("photo", PNG + b"\0" * 32)
    assert [p["width"] for p in photo["photo"]] == [90, 640]
    location = await aida.upload("location", latitude=42.87, longitude=74.59)
    assert location["location"] == {"latitude": 42.87, "longitude": 74.59}
    contact = await aida.upload("contact", phone_number="+996555000111")
    assert contact["contact"]["user_id"] == 42
    for kind in ("voice", "video", "sticker"):
        assert kind in await aida.upload(kind, b"blob")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


@pytest.mark.asyncio
async def test_send_document_multipart_and_photo(bot: Bot, client: EmulatorClient) -> None:
    await registered(client)
    doc = await bot.send_document(
        42, BufferedInputFile("Салам".encode(), filename="hello.txt"), caption="<i>file</i>",
        parse_mode="HTML",
    )  # fmt: skip
    assert doc.document is not None and doc.document.file_name == "hello.txt"
    assert (
        doc.caption == "file" and doc.caption_entities and doc.caption_entities[0].type == "italic"
    )
    again = await bot.send_document(42, doc.document.file_id)
    assert again.document is not None and again.document.file_id == doc.document.file_id
    assert await client.file(doc.document.file_id) == "Салам".encode()

    photo = await bot.send_photo(42, BufferedInputFile(PNG + b"\0" * 16, filename="p.png"))
    assert (
        photo.photo is not None and photo.photo[-1].width == 640 and photo.photo[-1].height == 480
    )
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(42, BufferedInputFile(b"not an image", filename="x.png"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(42, "unknown-file-id")
    with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Document"):
        await bot.send_document(42, photo.photo[-1].file_id)
    [_, _, last] = await client.transcript(42)
    assert last["photo"][-1]["file_id"] == photo.photo[-1].file_id


# ------------------------------------------------------------- forums


@pytest.mark.asyncio
async def test_forum_topic_and_thread_messages(bot: Bot, client: EmulatorClient) -> None:
    await client.add_chat(-100500, "Айыл өкмөтү", is_forum=True, admins=[7], bot_is_admin=True)
    await client.add_chat(-100600, "Plain group", is_forum=False)
    topic = await bot.create_forum_topic(-100500, "Суу маселеси")
    assert topic.name == "Суу маселеси" and topic.message_thread_id > 0
    thread = topic.message_thread_id
    msg = await bot.send_message(-100500, "In topic", message_thread_id=thread)
    assert msg.message_thread_id == thread and msg.is_topic_message
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(-100500, "x", message_thread_id=9999)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(-100600, "nope")

    chat = await bot.get_chat(-100500)
    assert chat.is_forum and chat.title == "Айыл өкмөтү"

    bolot = client.person(7, "Bolot").in_chat(-100500, thread)
    await bolot.send("/report@birge_test_bot water")
    [update] = await bot.get_updates(allowed_updates=["message"])
    assert update.message is not None and update.message.message_thread_id == thread
    assert update.message.entities and update.message.entities[0].length == len(
        "/report@birge_test_bot"
    )
    assert (await bot.get_chat_member(-100500, 7)).status == "administrator"
    assert (await bot.get_chat_member(-100500, 123456)).status == "administrator"
    in_topic = await client.transcript(-100500, thread)
    assert in_topic[0]["forum_topic_created"]["name"] == "Суу маселеси"
    assert len(in_topic) == 3


# ------------------------------------------------------------- updates


@pytest.mark.asyncio
async def test_get_updates_long_poll_offset_and_allowed_updates(
    bot: Bot, client: EmulatorClient
) -> None:
    aida = client.person(42, "Aida")

    async def later() -> None:
        await asyncio.sleep(0.1)
        await aida.send("wake up")

    started = time.monotonic()
    _, updates = await asyncio.gather(later(), bot.get_updates(timeout=5))
    assert time.monotonic() - started < 1.5
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    await aida.send("second")
    again = await bot.get_updates()
    assert len(again) == 2  # nothing confirmed yet
    confirmed = await bot.get_updates(offset=again[-1].update_id + 1)
    assert confirmed == []

    await bot.get_updates(allowed_updates=["callback_query"])
    await aida.send("dropped: message updates are not allowed")
    assert await client.pending_updates() == []
    stats = await client.stats()
    assert stats["updates_dropped"] == 1


@pytest.mark.asyncio
async def test_concurrent_get_updates_conflict(server: Any, bot: Bot) -> None:
    other = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    try:
        first = asyncio.create_task(bot.get_updates(timeout=3))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(other.get_updates(timeout=0))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await first
        assert await second == []
    finally:
        await other.session.close()


# ------------------------------------------------------------- control API


@pytest.mark.asyncio
async def test_control_press_edit_wait_and_reset(bot: Bot, client: EmulatorClient) -> None:
    aida = client.person(42, "Aida")
    first = await aida.send("hello")
    msg = await bot.send_message(
        42, "Choose", reply_markup=keyboard(("Yes", "v:yes"), ("No", "v:no"))
    )

    forged = await aida.press_data(msg.message_id, "v:admin")
    assert forged["data_present"] is False and forged["data"] == "v:admin"
    real = await aida.press("v:no")  # callback data works as well as visible text
    assert real["data_present"] is True and real["message_id"] == msg.message_id
    with pytest.raises(EmulatorError, match="no bot message"):
        await aida.press("Maybe")
    assert await client.answer(real["callback_query_id"]) is None

    edited = await aida.edit(first["message_id"], "hello (edited)")
    assert edited["edit_date"]
    updates = await bot.get_updates()
    kinds = [u.event_type for u in updates]
    assert kinds == ["message", "callback_query", "callback_query", "edited_message"]
    callback = updates[2].callback_query
    assert callback is not None and isinstance(callback.message, Message)
    assert callback.message.reply_markup is not None
    assert await bot.answer_callback_query(callback.id, text="Saved")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(callback.id, text="twice")
    assert (await client.answer(real["callback_query_id"], timeout=1)) == (
        await aida.answer(timeout=0)
    )

    # wait by message id: an edit that happens later is picked up without sleeps
    async def bot_edits() -> None:
        await asyncio.sleep(0.05)
        await bot.edit_message_text("Chosen: No", chat_id=42, message_id=msg.message_id)

    seq = await client.seq()
    result, _ = await asyncio.gather(
        client.wait(42, after_seq=seq, kinds=["edit"], timeout=2), bot_edits()
    )
    assert [e["message"]["text"] for e in result["events"]] == ["Chosen: No"]
    waited = await client.wait(42, after_message_id=msg.message_id, timeout=0.05)
    assert waited["timed_out"] and waited["events"] == []
    assert await aida.replies(timeout=0.05, include_edits=False) == []

    stats = await client.stats()
    assert stats["bot_messages"] == {"42": 1} and stats["user_messages"] == {"42": 1}
    await client.reset()
    assert (await client.stats())["users"] == 0
    with pytest.raises(EmulatorError):
        await client.transcript(42)


@pytest.mark.asyncio
async def test_reply_keyboard_press_sends_text(bot: Bot, client: EmulatorClient) -> None:
    aida = client.person(42, "Aida")
    await aida.register()
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Кыргызча"), KeyboardButton(text="Русский")]]
    )
    await bot.send_message(42, "Тилди тандаңыз", reply_markup=markup)
    result = await aida.press("Русский")
    assert result["type"] == "message" and result["message"]["text"] == "Русский"
    assert await aida.replies(timeout=0.1) == []  # no dispatcher here, so no answer
    [_, echoed_choice] = await aida.transcript()
    assert echoed_choice["text"] == "Русский"


@pytest.mark.asyncio
async def test_replies_collects_bursts_after_each_action(bot: Bot, client: EmulatorClient) -> None:
    aida = client.person(42, "Aida")
    await aida.send("/start")
    for text in ("one", "two", "three"):
        await bot.send_message(42, text)
    assert [m["text"] for m in await aida.replies(count=3)] == ["one", "two", "three"]
    await aida.send("again")
    await bot.send_message(42, "four")
    assert [m["text"] for m in await aida.replies()] == ["four"]
    with pytest.raises(TimeoutError):
        await aida.reply(timeout=0.05)

    await aida.send("more")
    for text in ("a", "b", "c"):
        await bot.send_message(42, text)
    assert (await aida.reply())["text"] == "a"  # b and c stay unread
    assert (await aida.expect("c"))["text"] == "c"  # skips b
    await bot.send_message(42, "d")
    assert [m["text"] for m in await aida.replies()] == ["d"]
    await bot.send_message(42, "e")
    with pytest.raises(AssertionError, match=r"it said: \['e'\]"):
        await aida.expect("never", timeout=0.1)
    assert aida.last_bot_message() is not None


# ------------------------------------------------------------- raw HTTP


@pytest.mark.asyncio
async def test_raw_http_encodings_and_unknown_method(server: Any, client: EmulatorClient) -> None:
    await registered(client)
    base = f"{server.url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendMessage", json={"chat_id": 42, "text": "json"}) as r:
            assert (await r.json())["result"]["text"] == "json"
        async with http.post(f"{base}/SENDMESSAGE", data={"chat_id": "42", "text": "form"}) as r:
            assert (await r.json())["result"]["text"] == "form"
        async with http.get(f"{base}/sendMessage", params={"chat_id": "42", "text": "123"}) as r:
            assert (await r.json())["result"]["text"] == "123"
        async with http.post(f"{base}/fooBar") as r:
            assert r.status == 404
            assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{server.url}/botnot-a-token/getMe") as r:
            assert r.status == 401
        async with http.get(f"{server.url}/file/bot{TOKEN}/documents/missing.txt") as r:
            assert r.status == 404


@pytest.mark.asyncio
async def test_unknown_method_through_aiogram(bot: Bot) -> None:
    from aiogram.methods import SendDice

    with pytest.raises(TelegramNotFound):
        await bot(SendDice(chat_id=42))


@pytest.mark.asyncio
async def test_run_emulator_helper() -> None:
    emulator = BotAPIEmulator(bot_username="helper_bot")
    async with run_emulator(emulator) as url:
        assert url.startswith("http://127.0.0.1:")
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
        try:
            assert (await bot.get_me()).username == "helper_bot"
        finally:
            await bot.session.close()


# ------------------------------------------------------------- formatting


def test_parse_html_entities_and_utf16_offsets() -> None:
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://x.kg?a=1&amp;b=2">link</a>'
    )
    assert text == "😀 bold both link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.kg?a=1&b=2"},
    ]
    pre_text, pre = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert pre_text == "x = 1" and pre == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"}
    ]
    assert parse_html("AT&T &#65;&#x42; &unknown;")[0] == "AT&T AB &unknown;"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_parse_html_errors(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(source)
    assert str(info.value) == error


def test_markdown_v2_reserved_characters() -> None:
    assert parse_text(r"*Салам* 1\.5", "MarkdownV2")[0] == "Салам 1.5"
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_text("Version 1.5", "MarkdownV2")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
        parse_text("*open", "MarkdownV2")
