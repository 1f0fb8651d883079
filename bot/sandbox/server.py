"""`birge sandbox`: Birge, the Bot API emulator and a browser chat page in one process.

Why this exists: a Union staff member or a donor's evaluator should see Birge work in one
command, before anyone registers a bot with @BotFather. The sandbox starts the emulator on a
free loopback port, points an unmodified Birge at it (polling, outbox worker and all), fills a
sandbox database of its own with the demo dataset (`bot.sandbox.demo`) and serves a chat page
(`page/index.html`) through which you act as any persona. The page talks to the small JSON API
below, which wraps the emulator's control operations in-process; `/api/wait` long-polls the
emulator's event log, so the bot's new messages, edits and button answers show up live.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import signal
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import ConfigError, load_settings
from bot.sandbox import demo
from bot.sandbox.emulator import BotAPIEmulator, ControlError, EmulatorServer
from bot.sandbox.emulator.methods import polls
from bot.sandbox.emulator.methods.files import store_file
from bot.services import cache, groups, members

log = logging.getLogger("birge.sandbox")

JSON = dict[str, Any]
SANDBOX_TOKEN = "123456:SANDBOX"
BOT_USERNAME = "birge_sandbox_bot"
DEFAULT_DATABASE = Path("data") / "sandbox.db"
DEFAULT_PORT = 8080
PAGE = Path(__file__).parent / "page" / "index.html"
UPLOAD_LIMIT = 20 * 1024 * 1024
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
VISITOR_IDS = (700_000_100, 700_001_000)  # Telegram ids handed to extra "new visitor" personas
VISITOR_NAMES = ("Асель Мамбетова", "Тилек Жумаев", "Бермет Алиева", "Эльдар Кадыров",
                 "Нургуль Сатыбалдиева", "Бекзат Омуров")
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
        "'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port (tests)
    database: Path | str = DEFAULT_DATABASE  # a SQLite file, or a postgresql+asyncpg:// URL
    fresh: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # more Settings values (tests)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def database_url(database: Path | str) -> str:
    """The sandbox's database: a SQLite file by default, or any PostgreSQL URL."""
    if isinstance(database, str) and database.startswith(("postgresql", "sqlite")):
        return database
    return sqlite_url(Path(database))


async def empty_postgres(url: str) -> None:
    """`--fresh` on PostgreSQL: every table of the sandbox's database goes."""
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.transaction() as s:
            await s.exec(text("DROP SCHEMA public CASCADE"))  # type: ignore[call-overload]
            await s.exec(text("CREATE SCHEMA public"))  # type: ignore[call-overload]
    finally:
        await db.dispose()


def remove_database(path: Path) -> None:
    """Delete a SQLite database with its WAL and shared-memory files."""
    for candidate in (path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


class Sandbox:
    """The running sandbox: `await start()` returns the page's address; `await stop()`."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.emulator = BotAPIEmulator(bot_username=BOT_USERNAME, bot_first_name="Birge")
        self.emulator_server = EmulatorServer(self.emulator)
        self.birge: Any = None  # bot.app.Birge, imported lazily (it pulls in aiogram)
        self.created = False  # the demo dataset was created by this start
        self.port = self.config.port
        self._runner: web.AppRunner | None = None
        self._personas: dict[str, demo.Persona] = {}
        self._next_visitor = VISITOR_IDS[0]
        self._ready = False

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        from bot.app import Birge
        from storage.db import check_reachable
        from storage.migrate import upgrade

        url = database_url(self.config.database)
        try:
            # The page first: a busy port is reported before anything else has started. Until
            # Birge runs, the API answers 503 and the page keeps retrying.
            await self._serve_page()
            await check_reachable(url)
            if self.config.fresh and url.startswith("postgresql"):
                await empty_postgres(url)
            elif self.config.fresh:
                remove_database(Path(url.removeprefix("sqlite+aiosqlite:///")))
            # Alembic's env.py runs its own event loop, so it must not run on this one.
            await asyncio.to_thread(upgrade, url)
            cache.clear_all()
            await self.emulator_server.start()
            settings = load_settings(bot_token=SANDBOX_TOKEN,
                                     telegram_api_url=self.emulator_server.url,
                                     database_url=url, webhook_url=None,
                                     # A demo at night shows what it sends at once.
                                     **{"quiet_hours_start": 0, "quiet_hours_end": 0,
                                        # Each topic group gets its thread in the demo forum.
                                        "forum_chat_id": demo.FORUM_CHAT_ID,
                                        **self.config.settings})
            self.birge = Birge(settings)
            self.created = await demo.ensure(self.birge.db)
            # The emulator starts empty each time: the groups' old forum threads are gone.
            await groups.forget_forum_topics(self.birge.db)
            await self._populate_emulator()
            await self.birge.start()
            self._ready = True
        except BaseException:
            await self.stop()
            raise
        return self.url

    async def stop(self) -> None:
        self._ready = False
        birge, self.birge = self.birge, None
        if birge is not None:
            with contextlib.suppress(Exception):
                await birge.stop()
        self.emulator.close()  # wakes the page's long polls
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self.emulator_server.stop()
        if birge is not None:
            await birge.db.dispose()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _populate_emulator(self) -> None:
        """Telegram's side of the demo: every account, plus the forum supergroup."""
        assert self.birge is not None
        db = self.birge.db
        emu = self.emulator
        for persona in demo.PERSONAS:
            self._personas[persona.key] = persona
        known = set()
        for person in demo.PEOPLE:
            self._add_account(person)
            known.add(person.telegram_id)
        for telegram_id, name in await demo.known_accounts(db):
            if telegram_id not in known:
                words = name.split()
                emu.add_user(telegram_id, words[0] if words else None,
                             last_name=" ".join(words[1:]) or None)
            if VISITOR_IDS[0] <= telegram_id < VISITOR_IDS[1]:
                self._next_visitor = max(self._next_visitor, telegram_id + 1)
        for item in demo.FILES:  # files the demo data refers to (an event's materials)
            store_file(emu, "document", item.data, file_name=item.name,
                       mime_type=item.mime_type, file_id=item.file_id)
        staff = demo.STAFF.telegram_id
        emu.add_chat(demo.FORUM_CHAT_ID, title=demo.FORUM_TITLE, is_forum=True,
                     bot_is_admin=True, admins=[staff], owner_id=staff)
        emu.control_send({"user_id": staff, "chat_id": demo.FORUM_CHAT_ID,
                          "text": "Саламатсыздарбы! Здравствуйте! Это форум Birge: у каждой "
                                  "тематической группы здесь своя тема."})

    def _add_account(self, person: demo.Person) -> None:
        self.emulator.add_user(person.telegram_id, person.first_name,
                               last_name=person.last_name or "", username=person.username or "",
                               language_code=person.language)

    async def _serve_page(self) -> None:
        runner = web.AppRunner(self.app(), handler_cancellation=True, shutdown_timeout=1.0,
                               access_log=None)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.config.host, self.config.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"--port: cannot listen on {self.config.host}:{self.config.port} ({exc.strerror});"
                " choose another with --port") from None
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break

    # ------------------------------------------------------------------ personas

    def persona(self, key: Any) -> demo.Persona:
        found = self._personas.get(str(key or ""))
        if found is None:
            raise ControlError(404, f"unknown persona {key!r}")
        return found

    def new_visitor(self) -> demo.Persona:
        """Another unregistered person, to try joining (or an invitation) again."""
        telegram_id = self._next_visitor
        if telegram_id >= VISITOR_IDS[1]:
            raise ControlError(409, "no more visitors in this sandbox; restart it with --fresh")
        self._next_visitor += 1
        n = telegram_id - VISITOR_IDS[0]
        person = demo.Person(f"visitor{n + 2}", telegram_id,
                             VISITOR_NAMES[n % len(VISITOR_NAMES)], language="ru",
                             registered=False)
        base = next(p for p in demo.PERSONAS if not p.person.registered)
        persona = demo.Persona(person, icon=base.icon, about=dict(base.about),
                               title={k: f"{v} {n + 2}" for k, v in base.title.items()})
        self._personas[person.key] = persona
        self._add_account(person)
        return persona

    async def persona_json(self, persona: demo.Persona) -> JSON:
        assert self.birge is not None
        person = persona.person
        member = await members.by_telegram(self.birge.db, person.telegram_id)
        invite = await demo.open_invite(self.birge.db) if member is None else None
        return {
            "key": persona.key,
            "user_id": person.telegram_id,
            "name": person.full_name,
            "username": person.username,
            "language": person.language,
            "icon": persona.icon,
            "title": persona.title,
            "about": persona.about,
            "status": str(member.status) if member is not None else None,
            "invite": invite,  # an unused demo invitation a visitor can open
        }

    # ------------------------------------------------------------------ the JSON API

    def app(self) -> web.Application:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 64 * 1024)
        route = app.router.add_route
        route("GET", "/", self._page)
        route("GET", "/index.html", self._page)
        api = {
            ("GET", "/api/state"): self._state,
            ("POST", "/api/personas"): self._add_persona,
            ("GET", "/api/chat"): self._chat,
            ("GET", "/api/forum"): self._forum,
            ("POST", "/api/send"): self._send,
            ("POST", "/api/press"): self._press,
            ("POST", "/api/vote"): self._vote,
            ("POST", "/api/upload"): self._upload,
            ("POST", "/api/topic"): self._topic,
            ("GET", "/api/wait"): self._wait,
        }
        for (method, path), handler in api.items():
            route(method, path, _json(handler, lambda: self._ready))
        route("GET", "/api/file", self._file)
        return app

    async def _page(self, request: web.Request) -> web.Response:
        html = await asyncio.to_thread(PAGE.read_text, "utf-8")
        return web.Response(text=html, content_type="text/html", charset="utf-8",
                            headers=PAGE_HEADERS)

    async def _state(self, request: web.Request) -> JSON:
        return {
            "bot": self.emulator.bot_user(),
            "personas": [await self.persona_json(p) for p in self._personas.values()],
            "forum": {"chat_id": demo.FORUM_CHAT_ID, "title": demo.FORUM_TITLE},
            "commands": self.emulator.commands(),
            "seq": self.emulator.seq,
            "upload_limit": UPLOAD_LIMIT,  # the page refuses a larger file in its own words
        }

    async def _add_persona(self, request: web.Request) -> JSON:
        return await self.persona_json(self.new_visitor())

    def _target(self, body: JSON) -> tuple[demo.Persona, int, int | None]:
        """(persona, chat id, thread id): the persona's chat with the bot, or the forum."""
        persona = self.persona(body.get("persona"))
        if _flag(body.get("forum")):
            thread = _int(body.get("thread"))
            return persona, demo.FORUM_CHAT_ID, thread or None
        return persona, persona.person.telegram_id, None

    async def _chat(self, request: web.Request) -> JSON:
        persona = self.persona(request.query.get("persona"))
        messages = self.emulator.transcript(persona.person.telegram_id, include_deleted=False)
        return {"messages": messages, "seq": self.emulator.seq}

    async def _forum(self, request: web.Request) -> JSON:
        chat = self.emulator.chat_view(demo.FORUM_CHAT_ID)
        messages = self.emulator.transcript(demo.FORUM_CHAT_ID, include_deleted=False)
        return {"chat": chat, "messages": messages, "seq": self.emulator.seq}

    async def _send(self, request: web.Request) -> JSON:
        body = await _body(request)
        persona, chat_id, thread = self._target(body)
        text = str(body.get("text") or "").strip()
        if not text:
            raise ControlError(400, "text is empty")
        return self.emulator.control_send({"user_id": persona.person.telegram_id,
                                           "chat_id": chat_id, "text": text[:4096],
                                           "message_thread_id": thread})

    async def _press(self, request: web.Request) -> JSON:
        body = await _body(request)
        persona, chat_id, _ = self._target(body)
        return self.emulator.control_press({
            "user_id": persona.person.telegram_id, "chat_id": chat_id,
            "message_id": _int(body.get("message_id")),
            "callback_data": str(body.get("callback_data") or ""),
        })

    async def _vote(self, request: web.Request) -> JSON:
        """A persona votes in a native poll (a survey's quick poll)."""
        body = await _body(request)
        persona, chat_id, _ = self._target(body)
        options = body.get("option_ids") or []
        return polls.control_vote(self.emulator, {
            "user_id": persona.person.telegram_id, "chat_id": chat_id,
            "message_id": _int(body.get("message_id")),
            "option_ids": [int(i) for i in options if str(i).isdigit()][:12],
        })

    async def _upload(self, request: web.Request) -> JSON:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise ControlError(400, "no file in the request")
        data = upload.file.read()
        if not data:
            raise ControlError(400, "the file is empty")
        body: JSON = {k: v for k, v in form.items() if isinstance(v, str)}
        persona, chat_id, thread = self._target(body)
        mime = upload.content_type or "application/octet-stream"
        return self.emulator.control_upload({
            "user_id": persona.person.telegram_id, "chat_id": chat_id,
            "message_thread_id": thread,
            "kind": "photo" if mime in INLINE_IMAGES else "document",
            "content_b64": base64.b64encode(data).decode("ascii"),
            "filename": upload.filename or "file", "mime_type": mime,
            "caption": str(body.get("caption") or "") or None,
        })

    async def _topic(self, request: web.Request) -> JSON:
        body = await _body(request)
        persona = self.persona(body.get("persona"))
        name = " ".join(str(body.get("name") or "").split())[:128]
        if not name:
            raise ControlError(400, "the topic needs a name")
        return self.emulator.control_topic({"user_id": persona.person.telegram_id,
                                            "chat_id": demo.FORUM_CHAT_ID, "name": name})

    async def _wait(self, request: web.Request) -> JSON:
        after = _int(request.query.get("after")) or 0
        timeout = min(max(float(request.query.get("timeout") or 25), 0.0), 50.0)
        return await self.emulator.wait_events(after_seq=after, timeout=timeout)

    async def _file(self, request: web.Request) -> web.Response:
        try:
            data, mime, name = self.emulator.file_meta(request.query.get("id", ""))
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        inline = mime in INLINE_IMAGES and request.query.get("download") != "1"
        quoted = urllib.parse.quote(name or "file")
        disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quoted}"
        return web.Response(body=data, headers={
            "Content-Type": mime if inline and mime else "application/octet-stream",
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        })


def _int(value: Any) -> int | None:
    if value in (None, "", "null"):
        return None
    return int(value)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


async def _body(request: web.Request) -> JSON:
    try:
        data = await request.json()
    except ValueError:
        raise ControlError(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def _json(handler: Callable[[web.Request], Awaitable[Any]], ready: Callable[[], bool]
          ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Answer {"ok": true, "result": ...}, or {"ok": false, "error": ...} with a status."""

    async def wrapped(request: web.Request) -> web.Response:
        if not ready():
            return web.json_response({"ok": False, "error": "the sandbox is starting"},
                                     status=503, headers={"Retry-After": "1"})
        try:
            result = await handler(request)
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        except (TypeError, ValueError, KeyError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.json_response({"ok": True, "result": result},
                                 headers={"Cache-Control": "no-store"})

    return wrapped


async def serve(config: SandboxConfig) -> None:
    """Run the sandbox until Ctrl-C or SIGTERM, then stop every part of it."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # keep the address line in view
    sandbox = Sandbox(config)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
            handled.append(sig)
    try:
        url = await sandbox.start()
        fresh = "a new demo dataset" if sandbox.created else "the existing sandbox data"
        print(f"Birge sandbox with {fresh} ({config.database}); open {url}\n"
              "Nothing here reaches Telegram. Ctrl-C stops it.", flush=True)
        if config.host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("the sandbox listens on %s: anyone who reaches it can act as any "
                        "persona", config.host)
        await stopping.wait()
        print("Stopping the sandbox…", flush=True)
    finally:
        await sandbox.stop()
        for sig in handled:
            loop.remove_signal_handler(sig)
