"""Webhook mode: with WEBHOOK_URL set, Birge sets its webhook and answers what Telegram posts
(the emulator posts each update to the webhook, with the secret token)."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import aiohttp

from bot.app import Birge
from bot.config import Settings
from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import EmulatorServer
from tests.e2e.conftest import TOKEN, PersonFactory, said, t


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_birge_in_webhook_mode_answers_a_posted_update(
    server: EmulatorServer, tg: EmulatorClient, db_url: str, people: PersonFactory
) -> None:
    port = free_port()
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=db_url,  # type: ignore[call-arg]
                        telegram_api_url=server.url, webhook_url=f"http://127.0.0.1:{port}",
                        webhook_host="127.0.0.1", webhook_port=port, webhook_secret="s3cret")
    app = Birge(settings, request_timeout=3.0)
    running = asyncio.create_task(app.run_webhook())
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                with contextlib.suppress(OSError):
                    async with http.post(f"http://127.0.0.1:{port}/webhook", json={}) as r:
                        assert r.status in (401, 403)  # no secret: refused
                        break
                await asyncio.sleep(0.05)
            calls = await tg.calls("setWebhook")
            assert calls and calls[-1]["params"]["url"].endswith("/webhook")

            person = await people("Nurlan", "ru")
            await person.send("/start")
            await said(person, t("ru", "Choose your language."))
            assert await tg.pending_updates() == []
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await app.bot.session.close()
