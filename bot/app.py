"""Assembling Birge: the Bot, the Dispatcher with middlewares and routers, the outbox worker.

`Birge` is what `birge run`, the tests and the benchmarks start: the same object, pointed at
Telegram, a self-hosted Bot API server or the emulator by `TELEGRAM_API_URL`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

import orjson
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramForbiddenError
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import ErrorEvent

from bot import forum, inbox, menu
from bot.config import Settings, require_token
from bot.delivery.limits import (
    ExpiredQueryMiddleware,
    GateMiddleware,
    SendGate,
    is_expired_query,
    make_gate,
)
from bot.delivery.worker import OutboxWorker
from bot.flows import steps, ui
from bot.flows.guard import FlowCommands, known_commands
from bot.handlers import routers
from bot.i18n import _, get_i18n
from bot.lean_aiogram import filters_inline, gate_routers
from bot.middlewares import LocaleMiddleware, MemberMiddleware
from bot.scheduler import Scheduler
from bot.services import cache, members
from bot.services.forums import forums_of
from bot.services.settings import QuietHours
from bot.telegram_session import JsonBodySession
from storage.bus import Bus
from storage.db import Database
from storage.fsm import SQLStorage
from storage.inbox import Inbox
from storage.isolation import AdvisoryIsolation, BoundedIsolation
from storage.migrate import is_up_to_date
from storage.sole import PollingLost, SolePoller

log = logging.getLogger("birge")

# Updates handled at once. Without a bound, a burst puts hundreds of handlers on the event loop
# and each one's database transaction waits longer for its turn; 32 keeps the loop responsive.
CONCURRENT_UPDATES = 32
# On SIGTERM, updates already accepted get this long to finish.
STOP_SECONDS = 20.0


# Full collections after 100 middle-generation collections instead of Python's 10.
FULL_COLLECTION_EVERY = 100


def settle_memory() -> None:
    """Once Birge has started: what start-up made (modules, aiogram's types, the routers, the
    catalogs — about 180,000 objects) lives as long as the process, so it is moved out of the
    garbage collector's sight (`gc.freeze`), and full collections come ten times less often
    (a cycle of garbage waits a few more seconds; most garbage is freed by reference counts).
    Before, scripts/bench_surveys.py logged 11 full collections in 40 s of answering, ~250 ms
    each (the event loop stops meanwhile); with the freeze alone 12 of ~68 ms, with both 4.
    Same run as main: 6.7 -> 6.2 ms of Birge's CPU per answer for the less frequent ones."""
    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


class NotMigrated(Exception):
    """The database schema is behind the code: run `birge db upgrade`."""


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_bot(settings: Settings, request_timeout: float = 60.0,
             gate: SendGate | None = None) -> Bot:
    # orjson parses Telegram's answers several times faster than the standard library; requests
    # go as JSON bodies (bot/telegram_session.py).
    session = JsonBodySession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url, is_local=False),
        timeout=request_timeout,
        json_loads=inbox.loads,  # orjson; keeps a getUpdates answer for the update log
        json_dumps=_json_dumps,
    )
    session.middleware(ui.Latest.on_request)  # what the bot sent last in each chat
    session.middleware(steps.on_request)  # Back / Skip / Cancel carry the member's step
    session.middleware(GateMiddleware(gate or SendGate(
        settings.send_rate_per_second, settings.send_rate_per_chat_per_second,
        settings.send_rate_per_group_per_minute)))
    session.middleware(ExpiredQueryMiddleware())
    return Bot(
        token=require_token(settings),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML,
                                     link_preview_is_disabled=True),
    )


def make_dispatcher(db: Database, settings: Settings,
                    isolation: BaseEventIsolation | None = None,
                    replicas: bool = True) -> Dispatcher:
    postgresql = db.engine.dialect.name == "postgresql"
    shared = replicas and postgresql
    if isolation is None:
        # Replicas on PostgreSQL: one update at a time per conversation across processes.
        isolation = AdvisoryIsolation(db, settings.database_pool_size) if shared else \
            BoundedIsolation(settings.database_pool_size) if postgresql else SimpleEventIsolation()
    storage = SQLStorage(db, shared=shared)
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    dp["isolation"] = isolation
    dp["settings"] = settings
    dp["inbox"] = updates = Inbox(db, storage, settings.update_claim_seconds)
    i18n = get_i18n(settings.default_language)
    member_mw = MemberMiddleware(db)
    dp.update.outer_middleware(member_mw)
    LocaleMiddleware(i18n).setup(dp)
    # Inside the conversation's lock, after the member's look-up: the update is marked handled
    # with its handler's first write (storage/inbox.py).
    dp.update.outer_middleware(inbox.UpdateMiddleware(updates))
    found = routers()
    # Before FlowCommands: the step it shows again (after /help, /continue, an unknown command)
    # is sent with its Back / Cancel buttons stamped, like any other step (bot/flows/steps.py).
    dp.message.outer_middleware(steps.NavSteps())
    # After the locale: a command typed in the middle of a guided flow is never its content.
    dp.message.outer_middleware(FlowCommands(known_commands(found)))
    dp.message.outer_middleware(ui.Latest.middleware)
    menus = dp["menus"] = menu.Menus()
    dp.message.outer_middleware(menu.MenuMiddleware(menus))
    dp.callback_query.outer_middleware(menu.MenuMiddleware(menus))
    # Last: Back / Skip / Cancel pressed on an older step or another flow's message is stale.
    dp.callback_query.outer_middleware(steps.NavSteps())
    for router in found:
        dp.include_router(router)
    dp.errors.register(_on_error)
    filters_inline(dp)
    gate_routers(dp)
    return dp


async def _on_error(event: ErrorEvent, db: Database | None = None) -> bool:
    """Nothing reaches a member as a traceback: log it, say something short, carry on."""
    exc = event.exception
    update = event.update
    user = None
    if update.message:
        user = update.message.from_user
    elif update.callback_query:
        user = update.callback_query.from_user
    if isinstance(exc, TelegramForbiddenError):
        if user is not None and db is not None:
            member = await members.by_telegram(db, user.id)
            if member is not None:
                await members.mark_unreachable(db, member.id)
        log.info("user %s blocked the bot", user.id if user else "?")
        return True
    if is_expired_query(exc):
        log.info("update %s: the button press expired before it was answered", update.update_id)
        return True
    log.error("update %s failed", update.update_id, exc_info=exc)
    with contextlib.suppress(Exception):
        text = _("Something went wrong on our side. Please try again.")
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message and update.message.chat.type == "private":
            await update.message.answer(text)
    return True


class Birge:
    """One running Birge: polling (or webhook) plus the outbox worker."""

    def __init__(self, settings: Settings, db: Database | None = None,
                 request_timeout: float = 60.0) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url, settings.database_pool_size,
                                 settings.database_max_overflow)
        self.gate = make_gate(self.db, settings.send_rate_per_second,
                              settings.send_rate_per_chat_per_second,
                              settings.send_rate_per_group_per_minute,
                              replicas=bool(settings.webhook_url))
        self.bot = make_bot(settings, request_timeout, self.gate)
        # Polling is one process (storage/sole.py); webhook replicas share conversations.
        self.dp = make_dispatcher(self.db, settings, replicas=bool(settings.webhook_url))
        self.sole = SolePoller(self.db.url) if not settings.webhook_url and \
            self.db.engine.dialect.name == "postgresql" else None
        self.inbox: Inbox = self.dp["inbox"]
        self.bot.session.middleware(inbox.on_request(self.inbox))
        self.worker = OutboxWorker(self.db, self.bot, self.gate,
                                   rate_per_second=settings.send_rate_per_second,
                                   poll_seconds=settings.outbox_poll_seconds,
                                   claim_seconds=settings.outbox_claim_seconds,
                                   quiet=QuietHours(settings.quiet_hours_start,
                                                    settings.quiet_hours_end, settings.tz))
        self.scheduler = Scheduler(self.db, settings)
        self._tasks: list[asyncio.Task[Any]] = []
        self._menu_task: asyncio.Task[None] | None = None
        self._bus: Bus | None = None

    async def _start_bus(self) -> None:
        """Replicas on PostgreSQL tell each other what their commits changed (cached reads)."""
        if self.db.engine.dialect.name != "postgresql" or self._bus is not None:
            return
        self._bus = Bus(self.db.url, cache.apply_notice, cache.clear_all)
        await self._bus.start()
        cache.publish_to(self._bus.publish)

    async def _stop_bus(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            cache.publish_to(None)
            await bus.stop()

    def _start_menu(self) -> None:
        """The default command menu, in the background: a failure is logged and retried, and
        never keeps Birge from starting (the menu is cosmetic)."""
        self._menu_task = asyncio.create_task(menu.keep_setting_default(self.bot), name="menu")

    async def _stop_menu(self) -> None:
        if self._menu_task is not None:
            self._menu_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._menu_task
            self._menu_task = None

    def _replay(self) -> asyncio.Task[None]:
        """Handle again what a crash cut short, then keep claims and take over others'."""
        return asyncio.create_task(
            inbox.replay_loop(self.inbox, self.dp, self.bot, db=self.db), name="replay")

    async def check_schema(self) -> None:
        if not await is_up_to_date(self.db.engine, self.settings.database_url):
            raise NotMigrated("the database is not migrated; run: birge db upgrade")

    async def _take_polling(self) -> None:
        if self.sole is not None:
            await self.sole.acquire(self._polling_lost)

    def _polling_lost(self) -> None:
        async def stop() -> None:
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()

        task = asyncio.get_running_loop().create_task(stop(), name="polling-lost")
        self._tasks.append(task)

    async def _release_polling(self) -> None:
        if self.sole is not None:
            await self.sole.release()

    async def start(self, polling_timeout: int = 10, handle_signals: bool = False) -> None:
        """Start polling and the worker in the background (tests and the sandbox use this)."""
        await self.check_schema()
        await self._take_polling()
        await self._start_bus()
        self._start_menu()
        await forum.sync_topics(self.bot, self.db, forums_of(self.settings),
                                self.settings.default_language)
        await self.scheduler.start()
        self._tasks = [
            asyncio.create_task(self.worker.run(), name="outbox"),
            self._replay(),
            asyncio.create_task(
                self.dp.start_polling(self.bot, polling_timeout=polling_timeout,
                                      handle_signals=handle_signals, close_bot_session=False,
                                      db=self.db, tasks_concurrency_limit=CONCURRENT_UPDATES),
                name="polling",
            ),
        ]

    async def stop(self) -> None:
        await self._stop_menu()
        await self.scheduler.stop()
        self.worker.stop()
        with contextlib.suppress(RuntimeError):
            await self.dp.stop_polling()
        for task in self._tasks:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.bot.session.close()
        await self.dp.storage.close()
        await self._release_polling()  # after the conversations are written
        await self.dp["isolation"].close()
        await self._stop_bus()

    async def run_polling(self) -> None:
        await self.check_schema()
        await self._take_polling()
        await self._start_bus()
        self._start_menu()
        await forum.sync_topics(self.bot, self.db, forums_of(self.settings),
                                self.settings.default_language)
        await self.scheduler.start()
        settle_memory()
        worker = asyncio.create_task(self.worker.run(), name="outbox")
        replay = self._replay()
        try:
            await self.dp.start_polling(self.bot, handle_signals=True, db=self.db,
                                        tasks_concurrency_limit=CONCURRENT_UPDATES)
        finally:
            replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replay
            await self._stop_menu()
            await self.scheduler.stop()
            self.worker.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await self.dp.storage.close()
            await self._release_polling()  # after the conversations are written
            await self.dp["isolation"].close()
            await self._stop_bus()
            await self.db.dispose()
        if self.sole is not None and self.sole.lost:
            raise PollingLost("the connection holding the polling lock was closed; polling "
                              "stopped (start Birge again)")

    async def run_webhook(self) -> None:
        """Serve Telegram's webhook until SIGTERM (or SIGINT); then stop taking updates, finish
        the ones in hand, write what is pending (conversations, outbox outcomes) and hand the
        scheduler's lease to another replica at once."""
        from aiogram.webhook.aiohttp_server import setup_application
        from aiohttp import web

        await self.check_schema()
        await self._start_bus()
        self._start_menu()
        assert self.settings.webhook_url
        app = web.Application()
        handler = inbox.webhook_handler(self.inbox, dispatcher=self.dp, bot=self.bot,
                                        secret_token=self.settings.webhook_secret, db=self.db)
        handler.register(app, path="/webhook")
        setup_application(app, self.dp, bot=self.bot)
        # Every replica sets the same public address (the load balancer's): harmless repeats.
        await self.bot.set_webhook(self.settings.webhook_url + "/webhook",
                                   secret_token=self.settings.webhook_secret)
        await forum.sync_topics(self.bot, self.db, forums_of(self.settings),
                                self.settings.default_language)
        await self.scheduler.start()
        settle_memory()
        worker = asyncio.create_task(self.worker.run(), name="outbox")
        replay = self._replay()
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.webhook_host, self.settings.webhook_port)
        await site.start()
        log.info("webhook listening on %s:%s", self.settings.webhook_host,
                 self.settings.webhook_port)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stopping.set)
        try:
            await stopping.wait()
            log.info("stopping: finishing the updates in hand")
        finally:
            await site.stop()  # no new updates: the load balancer sends them to the others
            in_hand = [t for t in getattr(handler, "_background_feed_update_tasks", ())
                       if not t.done()]
            if in_hand:
                await asyncio.wait(in_hand, timeout=STOP_SECONDS)
            replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replay
            await self._stop_menu()
            await self.scheduler.stop()  # running jobs finish; the lease is released
            self.worker.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await worker  # the batch in flight is sent and its outcomes written
            await self.dp.storage.close()  # conversations written
            await self.dp["isolation"].close()
            await runner.cleanup()
            await self._stop_bus()
            await self.db.dispose()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
