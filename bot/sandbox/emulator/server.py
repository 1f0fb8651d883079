"""The HTTP server: the Bot API (``/bot<token>/<method>``, ``/file/bot<token>/<path>``) and
the JSON control API (``/control/<name>``) over one ``BotAPIEmulator``; ``EmulatorServer``,
``run_emulator`` and the command line (``python -m bot.sandbox.emulator``).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.sandbox.emulator.core import BotAPIEmulator
from bot.sandbox.emulator.methods import polls
from bot.sandbox.emulator.protocol import JSON, UPLOAD_LIMIT, ControlError, dumps


def _q_int(query: JSON, key: str, default: int | None = None) -> int | None:
    value = query.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{key} must be an integer") from None


def _q_float(query: JSON, key: str, default: float) -> float:
    value = query.get(key)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{key} must be a number") from None


ControlHandler = Callable[[JSON], Awaitable[Any]]
EMULATOR_KEY = web.AppKey("emulator", BotAPIEmulator)


def _control_routes(emu: BotAPIEmulator) -> dict[str, ControlHandler]:
    async def users(body: JSON) -> Any:
        if "id" not in body:
            raise ControlError(400, "id is required")
        return emu.add_user(
            int(body["id"]),
            body.get("first_name"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code"),
            is_premium=body.get("is_premium"),
        )

    async def chats(body: JSON) -> Any:
        if "id" not in body:
            raise ControlError(400, "id is required")
        return emu.add_chat(
            int(body["id"]),
            title=str(body.get("title") or "Group"),
            type=str(body.get("type") or "supergroup"),
            is_forum=bool(body.get("is_forum", False)),
            admins=[int(a) for a in body.get("admins") or []],
            bot_is_admin=bool(body.get("bot_is_admin", False)),
            username=body.get("username"),
            owner_id=_q_int(body, "owner_id"),
            members=[int(m) for m in body["members"]] if body.get("members") is not None else None,
        )

    async def send(body: JSON) -> Any:
        return emu.control_send(body)

    async def press(body: JSON) -> Any:
        return emu.control_press(body)

    async def upload(body: JSON) -> Any:
        return emu.control_upload(body)

    async def edit(body: JSON) -> Any:
        return emu.control_edit(body)

    async def block(body: JSON) -> Any:
        return emu.control_block(body)

    async def topic(body: JSON) -> Any:
        return emu.control_topic(body)

    async def fail(body: JSON) -> Any:
        return emu.control_fail(body)

    async def config(body: JSON) -> Any:
        return emu.configure(body)

    async def reset(body: JSON) -> Any:
        emu.reset()
        return True

    async def answer(body: JSON) -> Any:
        query_id = str(body.get("callback_query_id") or "")
        timeout = _q_float(body, "timeout", 0.0)
        if timeout > 0:
            emu.control_answer(query_id)  # 404 for unknown ids
            return await emu.wait_answer(query_id, min(timeout, 300.0))
        return emu.control_answer(query_id)

    async def transcript(body: JSON) -> Any:
        chat_id = _q_int(body, "chat_id")
        if chat_id is None:
            raise ControlError(400, "chat_id is required")
        include_deleted = str(body.get("include_deleted", "1")).lower() not in ("0", "false", "no")
        return emu.transcript(chat_id, _q_int(body, "message_thread_id"), include_deleted)

    async def wait(body: JSON) -> Any:
        kinds_raw = body.get("kinds")
        if isinstance(kinds_raw, str):
            kinds_raw = [k for k in kinds_raw.split(",") if k]
        kinds = frozenset(str(k) for k in kinds_raw) if kinds_raw else None
        return await emu.wait_events(
            chat_id=_q_int(body, "chat_id"),
            after_seq=_q_int(body, "after_seq", 0) or 0,
            after_message_id=_q_int(body, "after"),
            count=_q_int(body, "count", 1) or 1,
            timeout=_q_float(body, "timeout", 5.0),
            settle=_q_float(body, "settle_ms", 0.0) / 1000.0,
            kinds=kinds,
            thread_id=_q_int(body, "message_thread_id"),
        )

    async def calls(body: JSON) -> Any:
        return emu.calls(body.get("method") or None, _q_int(body, "limit"))

    async def stats(body: JSON) -> Any:
        return emu.stats()

    async def commands(body: JSON) -> Any:
        return emu.commands()

    async def updates(body: JSON) -> Any:
        return emu.pending_updates()

    async def seq(body: JSON) -> Any:
        return emu.seq

    async def vote(body: JSON) -> Any:
        return polls.control_vote(emu, body)

    return {
        "users": users,
        "chats": chats,
        "send": send,
        "press": press,
        "upload": upload,
        "edit": edit,
        "block": block,
        "topic": topic,
        "fail": fail,
        "config": config,
        "reset": reset,
        "answer": answer,
        "transcript": transcript,
        "wait": wait,
        "calls": calls,
        "stats": stats,
        "commands": commands,
        "updates": updates,
        "seq": seq,
        "vote": vote,
    }


def create_app(emulator: BotAPIEmulator | None = None) -> web.Application:
    """Build the aiohttp application serving the Bot API and the control API."""
    emu = emulator if emulator is not None else BotAPIEmulator()
    app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
    routes = _control_routes(emu)

    async def control(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        handler = routes.get(name)
        if handler is None:
            return web.json_response(
                {"ok": False, "error": f"unknown control endpoint {name}"}, status=404
            )
        body: JSON = dict(request.query)
        if request.method == "POST" and request.body_exists:
            try:
                data = await request.json()
            except ValueError:
                return web.json_response({"ok": False, "error": "body must be JSON"}, status=400)
            if isinstance(data, dict):
                body.update(data)
        try:
            result = await handler(body)
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        except (TypeError, ValueError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.Response(
            text=dumps({"ok": True, "result": result, "seq": emu.seq}),
            content_type="application/json",
        )

    async def control_file(request: web.Request) -> web.Response:
        try:
            data = emu.file_bytes(request.query.get("file_id", ""))
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        return web.Response(body=data, content_type="application/octet-stream")

    async def on_startup(app: web.Application) -> None:
        emu.rebind()

    async def on_shutdown(app: web.Application) -> None:
        emu.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.router.add_route("GET", "/control/file", control_file)
    app.router.add_route("*", "/control/{name}", control)
    app.router.add_route("*", "/bot{token}/{method}", emu.handle_bot_api)
    app.router.add_route("GET", "/file/bot{token}/{path:.+}", emu.handle_file)
    app[EMULATOR_KEY] = emu
    return app


class EmulatorServer:
    """Serve a ``BotAPIEmulator`` on ``host:port`` (port 0 = a random free port)."""

    def __init__(
        self,
        emulator: BotAPIEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.emulator = emulator if emulator is not None else BotAPIEmulator()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        runner = web.AppRunner(
            create_app(self.emulator),
            handler_cancellation=True,  # a client that gives up cancels its held request
            shutdown_timeout=1.0,
            access_log=None,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            self.emulator.close()
            await runner.cleanup()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@asynccontextmanager
async def run_emulator(
    emulator: BotAPIEmulator | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """``async with run_emulator(emu) as url:`` — serve and yield the base URL."""
    server = EmulatorServer(emulator, host=host, port=port)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Telegram Bot API emulator for Birge")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="birge_test_bot")
    parser.add_argument("--rate-limit", type=float, default=None, help="messages per second")
    parser.add_argument("--per-chat", type=float, default=None, help="messages per second per chat")
    args = parser.parse_args(argv)
    emulator = BotAPIEmulator(
        bot_username=args.bot_username,
        rate_limit_per_second=args.rate_limit,
        per_chat_per_second=args.per_chat,
    )
    print(f"Bot API emulator on http://{args.host}:{args.port}", flush=True)
    web.run_app(
        create_app(emulator),
        host=args.host,
        port=args.port,
        handler_cancellation=True,
        shutdown_timeout=1.0,
        access_log=None,
        print=None,
    )
