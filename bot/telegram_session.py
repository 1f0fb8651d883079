"""Bot API requests as one JSON body, not a form, when they carry no file.

aiogram's AiohttpSession sends every request as application/x-www-form-urlencoded, and encoding
it percent-quotes every byte of every non-ASCII character in Python (urllib's `quote`): for
Birge's Kyrgyz and Russian texts and keyboards that was about 5% of its CPU per update (cProfile
timing CPU, members joining on PostgreSQL, issue 20). The Bot API takes the same parameters as
a JSON object (`application/json`, "except for uploading files"); each value is sent exactly as
aiogram prepares it for the form (strings, with keyboards and other objects JSON-encoded), which
the Bot API reads the same way. Requests with files still go as multipart forms.

Telegram answers a sent or edited message with the whole message, its keyboard included, and
aiogram builds a pydantic object for every button of it: ~160 µs for a 24-button keyboard
against ~25 µs without (measured here). Birge never reads a keyboard back from what it sent, so
it is dropped from those answers before aiogram reads them. getUpdates answers are kept whole
(a pressed button's message carries its keyboard).
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

_JSON = {"Content-Type": "application/json"}


class JsonBodySession(AiohttpSession):
    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        files: dict[str, InputFile] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                body[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            wait = ClientTimeout(total=self.timeout if timeout is None else timeout)
            async with session.post(url, data=self.json_dumps(body).encode(), headers=_JSON,
                                    timeout=wait) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status,
                                       content=raw_result)
        return cast(TelegramType, response.result)

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        if method.__api_method__ == GetUpdates.__api_method__:
            return super().check_response(bot, method, status_code, content)
        loads = self.json_loads

        def without_keyboard(text: str) -> Any:
            data = loads(text)
            result = data.get("result") if isinstance(data, dict) else None
            if isinstance(result, dict):
                result.pop("reply_markup", None)
            return data

        # Synchronous: no other request's answer is read while this one is.
        self.json_loads = without_keyboard
        try:
            return super().check_response(bot, method, status_code, content)
        finally:
            self.json_loads = loads
