"""Durable updates in aiogram (storage/inbox.py holds the SQL and the rules).

- `Inbox.on_request` on the Bot's session: a getUpdates answer is logged before aiogram sees it,
  so before the next getUpdates confirms it to Telegram. If logging fails, aiogram treats it as a
  failed getUpdates: it waits and asks again from the same offset. What is logged is each update
  as Telegram sent it (`loads` keeps the parsed answer): serializing aiogram's `Update` objects
  back would build pydantic's serializer and validator for nearly every Telegram type, about
  3 MB of idle memory (issue 20), and cost time on every update.
- `webhook_handler`: a webhook call is logged before its 200.
- `UpdateMiddleware` (outermost of Birge's own, on `dp.update`): runs the handler with the update
  as `storage.db.handling` and marks it handled when it returns, also when it failed (the error
  handler answered the member; a failing update is not retried forever). A handler cancelled by a
  stop leaves its update unhandled: the next start handles it.
- `replay_loop`: on start and then every third of the claim, renew the claims in hand and handle
  the updates taken over from a crashed process (one after another, as they arrived).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import orjson
from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import GetUpdates
from aiogram.types import TelegramObject, Update

from storage.db import handling
from storage.inbox import Inbox

log = logging.getLogger("birge.inbox")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Set by `on_request` around a getUpdates call: `loads` puts the parsed answer here.
_answers: ContextVar[list[Any] | None] = ContextVar("birge_raw_answers", default=None)


def loads(content: str | bytes) -> Any:
    """The session's JSON parser (orjson): also hands a getUpdates answer to `on_request`."""
    data = orjson.loads(content)
    answers = _answers.get()
    if answers is not None:
        answers.append(data)
    return data


def _as_sent(answers: list[Any], updates: list[Update]) -> list[dict[str, Any]]:
    """The updates of a getUpdates answer as Telegram sent them (in order, as aiogram read
    them); serialized back only if the answer was not parsed by `loads`."""
    raw = answers[-1].get("result") if answers and isinstance(answers[-1], dict) else None
    if isinstance(raw, list) and len(raw) == len(updates) and all(
            isinstance(r, dict) and r.get("update_id") == u.update_id
            for r, u in zip(raw, updates, strict=True)):
        return raw
    return [u.model_dump(mode="json", exclude_none=True, by_alias=True) for u in updates]


def on_request(inbox: Inbox) -> Any:
    async def middleware(make_request: Any, bot: Any, method: Any) -> Any:
        if not isinstance(method, GetUpdates):
            return await make_request(bot, method)
        answers: list[Any] = []
        token = _answers.set(answers)
        try:
            response = await make_request(bot, method)
        finally:
            _answers.reset(token)
        if response:
            await inbox.record(_as_sent(answers, response))
        return response

    return middleware


class UpdateMiddleware:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update_id = event.update_id if isinstance(event, Update) else None
        if update_id is None:
            return await handler(event, data)
        if not data.get("replayed") and self.inbox.is_repeat(update_id):
            log.info("update %s arrived again; handled once already", update_id)
            return UNHANDLED
        current = self.inbox.begin(update_id)
        if current is None:
            return await handler(event, data)
        token = handling.set(current)
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            self.inbox.drop(update_id)
            raise
        except BaseException:
            handling.reset(token)
            await self.inbox.finish(current)
            raise
        handling.reset(token)
        await self.inbox.finish(current)
        return result


def webhook_handler(inbox: Inbox, **kwargs: Any) -> Any:
    """aiogram's webhook handler, logging each update before it answers Telegram (imported
    only in webhook mode: polling never loads aiogram's webhook server)."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    class LoggedRequestHandler(SimpleRequestHandler):
        async def handle(self, request: web.Request) -> web.Response:
            bot = await self.resolve_bot(request)
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if self.verify_secret(secret, bot):
                with contextlib.suppress(ValueError):
                    payload = await request.json(loads=orjson.loads)
                    if isinstance(payload, dict) and isinstance(payload.get("update_id"), int):
                        await inbox.record([payload])
            return await super().handle(request)

    return LoggedRequestHandler(**kwargs)


async def replay_loop(inbox: Inbox, dp: Dispatcher, bot: Bot, **data: Any) -> None:
    pause = max(0.2, inbox.claim.total_seconds() / 3)
    while True:
        try:
            await inbox.renew()
            for payload in await inbox.take_over():
                log.info("handling update %s again: a stop or crash cut it short",
                         payload.get("update_id"))
                update = Update.model_validate(payload, context={"bot": bot})
                with contextlib.suppress(Exception):  # the error handler has answered it
                    await dp.feed_update(bot, update, replayed=True, **data)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("taking over unhandled updates failed; will retry")
        await asyncio.sleep(pause)
