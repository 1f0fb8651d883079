"""``BotAPIEmulator``: the state, the people, the faults and the Bot API dispatch in one object.

A Bot API call ``POST /bot<token>/<method>`` is answered by ``handle_bot_api``: check the
token, read the parameters, apply any injected fault, then call the function registered for
the method in ``registry.METHODS`` (filled by the area modules of ``methods/``).
"""

from __future__ import annotations

import inspect
from typing import Any

from aiohttp import web

from bot.sandbox.emulator import methods as _methods  # noqa: F401  (registers every method)
from bot.sandbox.emulator.control import ControlAPI
from bot.sandbox.emulator.faults import FaultInjection
from bot.sandbox.emulator.observe import Observation
from bot.sandbox.emulator.protocol import (
    JSON,
    TOKEN_RE,
    ApiError,
    HeldError,
    Params,
    dumps,
    read_params,
)
from bot.sandbox.emulator.registry import METHODS


class BotAPIEmulator(ControlAPI, Observation, FaultInjection):
    """All emulator state (users, chats, messages, files, updates) plus request handlers."""

    async def handle_bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        lname = method.lower()
        params = Params({}, {})
        try:
            match = TOKEN_RE.match(request.match_info["token"])
            if match is None:
                raise ApiError(401, "Unauthorized")
            ctx = self._ctx(int(match.group(1)))
            params = await read_params(request)
            if self._fail_rules:
                await self._maybe_fail(lname, method, params)
            handler = METHODS.get(lname)
            if handler is None:
                raise ApiError(404, "Not Found")
            result: Any = handler(self, ctx, params)
            if inspect.isawaitable(result):
                result = await result
            payload: JSON = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            payload = error.payload()
            status = error.code
            if isinstance(error, HeldError):
                return web.json_response(payload, status=status)
        self._log_call(method, params, status, payload.get("description"))
        return web.Response(text=dumps(payload), status=status, content_type="application/json")

    async def handle_file(self, request: web.Request) -> web.Response:
        if TOKEN_RE.match(request.match_info["token"]) is None:
            raise web.HTTPUnauthorized(
                text=dumps(ApiError(401, "Unauthorized").payload()),
                content_type="application/json",
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.Response(
                text=dumps(ApiError(404, "Not Found").payload()),
                status=404,
                content_type="application/json",
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
