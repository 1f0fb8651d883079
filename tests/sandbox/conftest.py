"""Fixtures: an emulator on 127.0.0.1 (random port), its control client and a real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import BotAPIEmulator, EmulatorServer

TOKEN = "123456:TEST"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(BotAPIEmulator()) as running:
        yield running


@pytest_asyncio.fixture
async def client(server: EmulatorServer) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(server.url) as control:
        yield control


@pytest_asyncio.fixture
async def bot(server: EmulatorServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    tg = Bot(TOKEN, session=session)
    try:
        yield tg
    finally:
        await tg.session.close()
