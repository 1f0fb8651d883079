"""Telegram's sending limits, shared by everything that sends: one gate per bot.

Telegram allows about 30 messages a second overall, about one a second to a private chat and 20 a
minute to a group; beyond that it answers 429 with `retry_after`. Every message Birge sends — a
reply in a handler or a broadcast row from the outbox — passes the gate (`GateMiddleware`, on the
bot's session). Replies to the member acting now are "interactive" and go first; outbox traffic is
"bulk" and takes the slots left over, so a broadcast to 10,000 members never makes a member wait
for an answer. A 429 pauses the whole gate for its `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from storage import pace
from storage.db import Database

log = logging.getLogger(__name__)

_BULK: ContextVar[bool] = ContextVar("birge_bulk_send", default=False)
# A slot the gate gave: [when its message left] (the time it was given, until `stamp`).
Slot = list[float]
Grant = asyncio.Future["Slot | None"]

# Set when the caller already waited for a slot (the outbox worker waits before it renders, so a
# broadcast cancelled meanwhile is not sent); the next counted call then goes straight through.
_PREPAID: ContextVar[tuple[Slot | None] | None] = ContextVar("birge_prepaid_send", default=None)

# Methods that put a message into a chat (and so count against Telegram's limits).
COUNTED = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendAudio", "sendVideo", "sendVoice",
    "sendAnimation", "sendMediaGroup", "sendLocation", "sendContact", "sendSticker",
    "copyMessage", "forwardMessage", "editMessageText", "editMessageCaption",
    "editMessageReplyMarkup", "editMessageMedia",
})


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """Sends inside this block are outbox traffic: they yield to interactive replies."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


def prepaid(slot: Slot | None) -> None:
    """The caller holds `slot` (from `SendGate.acquire`) for its next counted call."""
    _PREPAID.set((slot,))


def stamp(slot: Slot | None) -> None:
    """The message of `slot` leaves now, or its answer came now: the one-second window counts
    from the latest of these (see `WINDOW_SECONDS`)."""
    if slot is not None:
        slot[0] = time.monotonic()


# Messages leave at most the cap within any second, counted from when Telegram answered each one
# (`stamp` after the call): Telegram counts a message somewhere between its leaving and its
# answer, so a message that leaves a second after the answer to the one 30 before it can never be
# the 31st in a second, however the network or a busy event loop delays either (a 429 pauses
# everyone for at least a second). Counted from their leaving, with 1.5% headroom, a broadcast to
# 3,000 used 0.97 of the cap and met a 429; counted from the answer, with 0.5%: 0.99, none
# (scripts/bench_broadcast.py --runs capped --recipients 3000, SQLite and PostgreSQL alike).
HEADROOM = 0.995
WINDOW_SECONDS = 1.002


class SendGate:
    def __init__(self, per_second: float, per_chat_per_second: float = 1.0,
                 per_group_per_minute: float = 20.0) -> None:
        self.interval = 1.0 / (per_second * HEADROOM) if per_second > 0 else 0.0
        self.chat_interval = 1.0 / per_chat_per_second if per_chat_per_second > 0 else 0.0
        self.group_interval = 60.0 / per_group_per_minute if per_group_per_minute > 0 else 0.0
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._window: deque[Slot] = deque(maxlen=max(1, int(per_second)))
        self._next_chat: dict[int, float] = {}
        self._waiting: tuple[deque[Grant], deque[Grant]] = (
            deque(), deque())  # (interactive, bulk)
        self._releaser: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def _chat_turn(self, chat_id: int) -> None:
        """Bulk messages keep to the per-chat (and per-group) pace."""
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        if interval <= 0:
            return
        now = time.monotonic()
        at = max(now, self._next_chat.get(chat_id, 0.0))
        self._next_chat[chat_id] = at + interval
        if len(self._next_chat) > 100_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)

    async def acquire(self, chat_id: int | None, bulk: bool) -> Slot | None:
        """Wait for a slot; `stamp` it when its message leaves."""
        if bulk and chat_id is not None:
            await self._chat_turn(chat_id)
        if self.interval <= 0 and self._paused_until <= time.monotonic():
            return None
        future: Grant = asyncio.get_running_loop().create_future()
        self._waiting[1 if bulk else 0].append(future)
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release(), name="send-gate")
        self._wake.set()
        return await future

    async def _release(self) -> None:
        """Hand out one slot per interval, interactive waiters first."""
        interactive, bulk_waiting = self._waiting
        while True:
            if not interactive and not bulk_waiting:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 30)
                except TimeoutError:
                    return
                continue
            now = time.monotonic()
            at = max(self._next_slot, self._paused_until)
            if self.interval > 0 and len(self._window) == self._window.maxlen:
                at = max(at, self._window[0][0] + WINDOW_SECONDS)
            if at > now:
                await asyncio.sleep(at - now)
                continue
            queue = interactive if interactive else bulk_waiting
            future = queue.popleft()
            if future.done():
                continue
            slot = [now]
            future.set_result(slot)
            self._window.append(slot)
            self._next_slot = max(now, self._next_slot) + self.interval


# Bulk messages take the bot's shared slots at most this far ahead: a reply to a member acting
# now waits behind at most this much bulk traffic, whichever replica sends either. (A broadcast to
# 3,000 with members using the bot meanwhile, one process on the shared gate: replies p95 286 ms
# at 0.25 s, 143 ms at 0.1 s, 94 ms at 0.05 s, the same share of the cap; 0.1 leaves replicas
# room for a slow round trip.)
BULK_HORIZON = 0.1
# Replicas' messages reach Telegram with more jitter than one process's (a busy event loop, a
# slow database round trip), so shared slots are spaced a little wider, and a slot its replica
# wakes up for too late is given back and another taken, rather than sent bunched with the next.
SHARED_HEADROOM = 0.93
LATE_SECONDS = 0.04


class DatabaseClock:
    """Where the database's clock stands against this process's event-loop clock, from the
    fastest of the recent round trips that took a slot: a shared slot is placed on the loop's
    clock to within half that round trip, however long the answer that carried it was delayed
    (a busy event loop, a slow statement). Without it every replica sent each slot late by its
    own round trip, and messages of several replicas reached Telegram bunched."""

    def __init__(self, keep: int = 64) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (round trip, offset)

    def observe(self, sent: float, received: float, database_now: float) -> None:
        self._samples.append((received - sent, database_now - (sent + received) / 2))

    def to_loop(self, database_time: float) -> float:
        return database_time - min(self._samples)[1]


class SharedSendGate(SendGate):
    """The gate for several replicas on one PostgreSQL database: every slot (the bot's 30 a
    second, a chat's 1 a second, a group's 20 a minute) is taken in the database
    (`storage.pace`), so the limits hold for the bot as a whole. Within this process replies
    still go before bulk; across processes bulk keeps to `BULK_HORIZON`."""

    def __init__(self, db: Database, per_second: float, per_chat_per_second: float = 1.0,
                 per_group_per_minute: float = 20.0) -> None:
        super().__init__(per_second, per_chat_per_second, per_group_per_minute)
        self.interval = 1.0 / (per_second * SHARED_HEADROOM) if per_second > 0 else 0.0
        self.db = db
        self._late: set[Grant] = set()
        self._clock = DatabaseClock()
        self._taken = 0
        self._background: set[asyncio.Task[None]] = set()

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        task = asyncio.get_running_loop().create_task(pace.pause(self.db, seconds))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _chat_turn(self, chat_id: int) -> None:
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        if interval <= 0:
            return
        wait = await pace.take(self.db, chat_id, interval)
        if wait is not None and wait > 0:
            await asyncio.sleep(wait)

    async def acquire(self, chat_id: int | None, bulk: bool) -> Slot | None:
        if bulk and chat_id is not None:
            await self._chat_turn(chat_id)
        if self.interval <= 0:
            return None
        future: Grant = asyncio.get_running_loop().create_future()
        self._waiting[1 if bulk else 0].append(future)
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release(), name="send-gate")
        self._wake.set()
        return await future

    async def _release(self) -> None:
        interactive, bulk_waiting = self._waiting
        loop = asyncio.get_running_loop()
        while True:
            if not interactive and not bulk_waiting:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 30)
                except TimeoutError:
                    return
                continue
            queue = interactive if interactive else bulk_waiting
            try:
                sent = loop.time()
                taken = await pace.take_at(self.db, pace.BOT, self.interval,
                                           None if queue is interactive else BULK_HORIZON)
                received = loop.time()
            except Exception:
                log.exception("taking a sending slot failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if taken is None:  # the bot's next slots are taken: bulk waits its turn
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), BULK_HORIZON / 4)
                continue
            self._taken += 1
            if self._taken % 5000 == 0:
                with contextlib.suppress(Exception):
                    await pace.forget_idle(self.db)
            self._clock.observe(sent, received, taken[2])
            due = self._clock.to_loop(taken[1])
            while queue:
                future = queue.popleft()
                if future.done():
                    continue
                loop.call_later(max(0.0, due - loop.time()), self._grant, future, queue, due)
                break

    def _grant(self, future: Grant, queue: deque[Grant],
               due: float) -> None:
        if future.done():
            return
        if asyncio.get_running_loop().time() - due > LATE_SECONDS and \
                future not in self._late:
            self._late.add(future)  # woke too late for this slot: take another (once)
            future.add_done_callback(self._late.discard)
            queue.appendleft(future)
            self._wake.set()
            if self._releaser is None or self._releaser.done():
                self._releaser = asyncio.create_task(self._release(), name="send-gate")
            return
        future.set_result(None)


def make_gate(db: Database, per_second: float, per_chat_per_second: float = 1.0,
              per_group_per_minute: float = 20.0, *, replicas: bool = True) -> SendGate:
    """The shared gate for webhook replicas on PostgreSQL; the in-process one otherwise: SQLite
    is one process, and so is long polling (Telegram answers a second `getUpdates` with 409), and
    in one process the exact window of `SendGate` keeps closer to the cap with no 429 and no
    round trip to the database per message."""
    if replicas and db.engine.dialect.name == "postgresql":
        return SharedSendGate(db, per_second, per_chat_per_second, per_group_per_minute)
    return SendGate(per_second, per_chat_per_second, per_group_per_minute)


# An interactive reply meets a 429, a 5xx or a timeout: it waits (`retry_after`, or this backoff)
# and goes again through the gate, still ahead of the outbox. The member is waiting for it.
REPLY_ATTEMPTS = 5
REPLY_BACKOFF = (0.5, 1.0, 2.0, 4.0)
# Calls that are a reply to the member acting now but do not put a message into a chat.
RETRIED = COUNTED | {"answerCallbackQuery", "sendChatAction", "deleteMessage"}


class GateMiddleware(BaseRequestMiddleware):
    """Pass counted calls through the gate. An interactive reply that meets a 429 waits for it,
    and one that meets a 5xx or a timeout tries again with backoff; bulk rows are retried by the
    outbox worker instead (which keeps their attempts and gives up in time)."""

    def __init__(self, gate: SendGate) -> None:
        self.gate = gate

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        name = method.__api_method__
        if name not in RETRIED:
            return await make_request(bot, method)
        counted = name in COUNTED
        chat_id = _chat_of(method)
        is_bulk = _BULK.get()
        last = REPLY_ATTEMPTS - 1
        for attempt in range(REPLY_ATTEMPTS):
            slot: Slot | None = None
            held = _PREPAID.get() if counted else None
            if held is not None:
                _PREPAID.set(None)
                slot = held[0]
            elif counted:
                slot = await self.gate.acquire(chat_id, is_bulk)
            try:
                stamp(slot)
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.gate.pause(exc.retry_after)
                if is_bulk or attempt == last:
                    raise
                log.info("%s to %s: 429, again in %s s", name, chat_id, exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if is_bulk or attempt == last:
                    raise
                wait = REPLY_BACKOFF[min(attempt, len(REPLY_BACKOFF) - 1)]
                log.info("%s to %s failed (%s), again in %s s", name, chat_id, exc, wait)
                await asyncio.sleep(wait)
            finally:
                stamp(slot)  # answered (or failed) now: the window counts from here
        raise AssertionError("unreachable")  # pragma: no cover


def _chat_of(method: Any) -> int | None:
    chat = getattr(method, "chat_id", None)
    return chat if isinstance(chat, int) else None


EXPIRED_QUERY = "query is too old"


def is_expired_query(exc: BaseException) -> bool:
    """Telegram refuses to answer a button press after ~15 seconds (or twice): a normal event."""
    return isinstance(exc, TelegramBadRequest) and (
        EXPIRED_QUERY in exc.message or "query ID is invalid" in exc.message)


class ExpiredQueryMiddleware(BaseRequestMiddleware):
    """A late answer to a button press is noted at INFO and counts as given: the handler goes
    on to show what was asked for, instead of stopping with an error in the log."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if method.__api_method__ != "answerCallbackQuery":
            return await make_request(bot, method)
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not is_expired_query(exc):
                raise
            log.info("button press %s expired before it was answered",
                     getattr(method, "callback_query_id", "?"))
            return Response[TelegramType](ok=True, result=True)
