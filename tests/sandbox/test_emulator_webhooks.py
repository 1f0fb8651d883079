"""The emulator delivers updates to a webhook as Telegram does, and spreads them over several
addresses as a load balancer's stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import EmulatorServer

TOKEN = "123456:TEST"
JSON = dict[str, Any]


class Receiver:
    """A webhook endpoint that records what it is sent (and can refuse for a while)."""

    def __init__(self) -> None:
        self.got: list[tuple[JSON, str | None]] = []
        self.refuse = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.refuse > 0:
            self.refuse -= 1
            return web.Response(status=500)
        self.got.append((await request.json(),
                         request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.json_response({})

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/webhook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/webhook"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer() as running:
        yield running


@pytest.fixture
async def tg(server: EmulatorServer) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(server.url) as control:
        yield control


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    started = [await Receiver().start() for _ in range(3)]
    yield started
    for r in started:
        await r.stop()


async def bot_api(server: EmulatorServer, method: str, **params: Any) -> JSON:
    async with aiohttp.ClientSession() as http, http.post(
        f"{server.url}/bot{TOKEN}/{method}", json=params
    ) as response:
        payload: JSON = await response.json()
        return payload


async def until(predicate: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_updates_are_posted_to_the_webhook_with_the_secret_token(
    server: EmulatorServer, tg: EmulatorClient, receivers: list[Receiver]
) -> None:
    hook = receivers[0]
    assert (await bot_api(server, "setWebhook", url=hook.url, secret_token="s3cret"))["ok"]
    person = tg.person(501, "Aibek")
    await person.register()
    await person.send("/start")
    await until(lambda: len(hook.got) == 1)
    update, secret = hook.got[0]
    assert update["message"]["text"] == "/start" and secret == "s3cret"
    info = (await bot_api(server, "getWebhookInfo"))["result"]
    assert info["url"] == hook.url and info["pending_update_count"] == 0
    refused = await bot_api(server, "getUpdates")
    assert refused["error_code"] == 409


async def test_a_failed_delivery_is_retried_and_reported(
    server: EmulatorServer, tg: EmulatorClient, receivers: list[Receiver]
) -> None:
    hook = receivers[0]
    hook.refuse = 2
    await bot_api(server, "setWebhook", url=hook.url)
    person = tg.person(502, "Aibek")
    await person.register()
    await person.send("first")
    await person.send("second")
    await until(lambda: len(hook.got) == 2)
    assert [u["message"]["text"] for u, _ in hook.got] == ["first", "second"]  # order kept
    info = (await bot_api(server, "getWebhookInfo"))["result"]
    assert "500" in info["last_error_message"]


async def test_deliveries_spread_over_several_backends_and_stop_with_delete(
    server: EmulatorServer, tg: EmulatorClient, receivers: list[Receiver]
) -> None:
    await tg.config(webhook_backends=[r.url for r in receivers])
    await bot_api(server, "setWebhook", url="https://birge.example.org/webhook")
    people = [tg.person(600 + i, f"P{i}") for i in range(9)]
    for p in people:
        await p.register()
        await p.send("hello")
    await until(lambda: sum(len(r.got) for r in receivers) == 9)
    assert [len(r.got) for r in receivers] == [3, 3, 3]
    assert (await bot_api(server, "deleteWebhook"))["result"] is True
    await people[0].send("after")
    await asyncio.sleep(0.3)
    assert sum(len(r.got) for r in receivers) == 9
    assert [u["message"]["text"] for u in await tg.pending_updates()] == ["after"]


async def test_a_webhook_must_be_an_http_address(server: EmulatorServer) -> None:
    refused = await bot_api(server, "setWebhook", url="ftp://x")
    assert refused["ok"] is False and "bad webhook" in refused["description"]
