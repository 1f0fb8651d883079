"""Birge's requests go to Telegram as JSON bodies (files still as multipart forms), and what
Birge sent comes back without its keyboard; what members press still carries it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import EmulatorServer
from bot.telegram_session import JsonBodySession

TOKEN = "123456:TEST"
KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[
    [InlineKeyboardButton(text="Ала-Бука району", callback_data="p:district:1")],
    [InlineKeyboardButton(text="Чүй району", callback_data="p:district:2")],
])


@pytest_asyncio.fixture
async def birge_bot(server: EmulatorServer) -> AsyncIterator[Bot]:
    tg = Bot(TOKEN, session=JsonBodySession(api=TelegramAPIServer.from_base(server.url)))
    try:
        yield tg
    finally:
        await tg.session.close()


@pytest.fixture
def sent_bodies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(method, how its body was sent) for every Bot API request made."""
    seen: list[tuple[str, str]] = []
    real = aiohttp.ClientSession._request

    async def spy(self: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
        headers = kwargs.get("headers") or {}
        kind = "json" if headers.get("Content-Type") == "application/json" else \
            type(kwargs.get("data")).__name__
        if "/control/" not in str(url):  # the emulator's control API: the test, not the bot
            seen.append((str(url).rsplit("/", 1)[-1], kind))
        return await real(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", spy)
    return seen


async def test_a_step_with_a_kyrgyz_keyboard_goes_as_json_and_reaches_the_member_whole(
        birge_bot: Bot, client: EmulatorClient, sent_bodies: list[tuple[str, str]]) -> None:
    aigul = client.person(42, "Айгүл")
    await aigul.send("/start")
    sent = await birge_bot.send_message(42, "(4/8) Районуңузду тандаңыз — «Чүй»?",
                                        reply_markup=KEYBOARD)
    assert sent_bodies == [("sendMessage", "json")]
    assert sent.message_id and sent.text == "(4/8) Районуңузду тандаңыз — «Чүй»?"
    assert sent.reply_markup is None  # not read back: Birge never uses it
    shown = (await client.transcript(42))[-1]
    assert shown["text"] == "(4/8) Районуңузду тандаңыз — «Чүй»?"
    assert [row[0]["text"] for row in shown["reply_markup"]["inline_keyboard"]] == [
        "Ала-Бука району", "Чүй району"]

    pressed = await aigul.press("p:district:2")
    updates = await birge_bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.data == "p:district:2"
    assert query.message is not None and query.message.reply_markup is not None  # kept whole
    edited = await birge_bot.edit_message_text("(5/8) Айыл аймагыңыз?", chat_id=42,
                                               message_id=pressed["message_id"],
                                               reply_markup=KEYBOARD)
    assert edited is not True and edited.text == "(5/8) Айыл аймагыңыз?"
    assert ("editMessageText", "json") in sent_bodies


async def test_a_document_still_goes_as_a_multipart_form(
        birge_bot: Bot, client: EmulatorClient, sent_bodies: list[tuple[str, str]]) -> None:
    await client.person(42, "Айгүл").send("/start")
    sent = await birge_bot.send_document(
        42, BufferedInputFile("Бюджет 2027".encode(), "budget.txt"), caption="Токтом")
    assert sent_bodies == [("sendDocument", "FormData")]
    assert sent.document is not None
    assert await client.file(sent.document.file_id) == "Бюджет 2027".encode()


async def test_telegram_refusing_a_json_request_is_reported_as_for_a_form(
        birge_bot: Bot, client: EmulatorClient) -> None:
    from aiogram.exceptions import TelegramBadRequest

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await birge_bot.send_message(999_999_999, "Салам")
