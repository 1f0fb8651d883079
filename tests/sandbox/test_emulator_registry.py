"""The emulator's table of Bot API methods: an area module registers a function by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox.emulator import METHODS, EmulatorServer, bot_method, register
from bot.sandbox.emulator.protocol import JSON, Params, bad
from bot.sandbox.emulator.state import BotCtx, EmulatorState

TOKEN = "123456:TEST"


@pytest.fixture
def scratch_method() -> Iterator[str]:
    """A method registered only for one test (the table is process-wide)."""
    name = "getBirgeEcho"

    @bot_method(name)
    def get_birge_echo(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
        word = p.string("word")
        if not word:
            raise bad("word is empty")
        return {"word": word, "bot_id": ctx.bot_id}

    try:
        yield name
    finally:
        METHODS.pop(name.lower(), None)


async def call(server: EmulatorServer, method: str, **params: Any) -> tuple[int, JSON]:
    async with aiohttp.ClientSession() as http, http.post(
        f"{server.url}/bot{TOKEN}/{method}", json=params
    ) as response:
        return response.status, await response.json()


def test_every_area_registers_its_methods() -> None:
    for name in ("sendMessage", "editMessageText", "answerCallbackQuery", "sendPhoto",
                 "sendDocument", "getFile", "createForumTopic", "setMyCommands", "getChatMember",
                 "getUpdates", "setWebhook"):  # fmt: skip
        assert name.lower() in METHODS, name


def test_a_method_can_not_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register("sendMessage", METHODS["sendmessage"])


@pytest.mark.asyncio
async def test_a_registered_function_is_served_like_telegram(
    server: EmulatorServer, scratch_method: str
) -> None:
    status, body = await call(server, scratch_method, word="salam")
    assert (status, body) == (200, {"ok": True, "result": {"word": "salam", "bot_id": 123456}})

    status, body = await call(server, scratch_method.upper())  # names are case-insensitive
    assert status == 400
    assert body["description"] == "Bad Request: word is empty"

    status, body = await call(server, "getNothingAtAll")
    assert (status, body["description"]) == (404, "Not Found")
