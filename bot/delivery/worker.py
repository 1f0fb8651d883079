"""The outbox worker: claims due rows, renders each in its recipient's language and sends it.

Per-row state lives in the database (pending → sending → sent / failed / unreachable), so a crash
loses nothing: rows left in "sending" go back to "pending" at start, and the only possible
duplicates are the rows that were in flight at the moment of the crash.

Telegram's answers decide what happens next: 429 waits `retry_after` and retries; 5xx and network
errors retry with exponential backoff up to `MAX_ATTEMPTS`; 403 (blocked) and "chat not found"
mark the member unreachable instead of retrying forever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlmodel import col, or_, select, update

from bot.delivery.limits import RateLimiter
from bot.delivery.render import Recipient, get_renderer
from bot.i18n import in_locale
from bot.services import notify
from storage.db import Database
from storage.enums import OutboxStatus
from storage.models import Member, Outbox
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300


@dataclass
class Outcome:
    status: OutboxStatus
    error: str | None = None
    retry_in: float | None = None
    message_id: int | None = None


class OutboxWorker:
    def __init__(self, db: Database, bot: Bot, limiter: RateLimiter, *,
                 poll_seconds: float = 1.0, batch: int = 100, concurrency: int = 8) -> None:
        self.db = db
        self.bot = bot
        self.limiter = limiter
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._stopping = False
        self._unsubscribe = notify.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> int:
        """Rows a crash left in "sending" go back to the queue."""
        async with self.db.transaction() as s:
            result = await s.exec(
                update(Outbox)
                .where(col(Outbox.status) == OutboxStatus.SENDING)
                .values(status=OutboxStatus.PENDING)
            )
            return int(result.rowcount or 0)

    async def run(self) -> None:
        await self.recover()
        try:
            while not self._stopping:
                sent = await self.drain_once()
                if sent == 0:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                    except TimeoutError:
                        pass
        finally:
            self._unsubscribe()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _claim(self) -> list[int]:
        now = utcnow()
        async with self.db.transaction() as s:
            ids = list(
                (
                    await s.exec(
                        select(Outbox.id)
                        .where(Outbox.status == OutboxStatus.PENDING)
                        .where(or_(col(Outbox.not_before).is_(None), col(Outbox.not_before) <= now))
                        .order_by(col(Outbox.priority), col(Outbox.id))
                        .limit(self.batch)
                    )
                ).all()
            )
            if ids:
                await s.exec(
                    update(Outbox)
                    .where(col(Outbox.id).in_(ids), col(Outbox.status) == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENDING)
                )
        return [i for i in ids if i is not None]

    async def drain_once(self) -> int:
        """Send one batch of due rows; returns how many rows were handled."""
        ids = await self._claim()
        if not ids:
            return 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for row_id in ids:
            queue.put_nowait(row_id)

        async def lane() -> None:
            while not queue.empty():
                await self._deliver(queue.get_nowait())

        await asyncio.gather(*(lane() for _ in range(min(self.concurrency, len(ids)))))
        return len(ids)

    async def _deliver(self, row_id: int) -> None:
        async with self.db.read() as s:
            row = await s.get(Outbox, row_id)
            if row is None:
                return
            member = await s.get(Member, row.member_id) if row.member_id else None
            kind, payload, attempts = row.kind, dict(row.payload), row.attempts
        chat_id = row.chat_id or (member.telegram_id if member else None)
        if member is not None and not member.reachable:
            outcome = Outcome(OutboxStatus.UNREACHABLE, "member unreachable")
        elif chat_id is None:
            outcome = Outcome(OutboxStatus.UNREACHABLE, "no Telegram account")
        else:
            language = member.language if member else "ky"
            recipient = Recipient(member.id if member and member.id else 0, chat_id, language)
            outcome = await self._send(kind, payload, recipient)
        await self._finish(row_id, attempts, outcome, member.id if member else None)

    async def _send(self, kind: str, payload: dict[str, object], to: Recipient) -> Outcome:
        render = get_renderer(kind)
        if render is None:
            return Outcome(OutboxStatus.FAILED, f"no renderer for {kind}")
        try:
            with in_locale(to.language):
                rendered = await render(self.db, to, payload)
        except Exception as exc:  # a broken renderer must not stop the queue
            log.exception("rendering %s failed", kind)
            return Outcome(OutboxStatus.FAILED, f"render: {exc}"[:300])
        if rendered is None:
            return Outcome(OutboxStatus.CANCELLED, "no longer relevant")
        await self.limiter.acquire(to.chat_id)
        try:
            msg = await self.bot.send_message(to.chat_id, rendered.text,
                                              reply_markup=rendered.markup)
        except TelegramRetryAfter as exc:
            self.limiter.pause(exc.retry_after)
            return Outcome(OutboxStatus.PENDING, "429", retry_in=float(exc.retry_after))
        except TelegramForbiddenError as exc:
            return Outcome(OutboxStatus.UNREACHABLE, exc.message[:300])
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                return Outcome(OutboxStatus.UNREACHABLE, exc.message[:300])
            log.error("outbox %s refused: %s", kind, exc.message)
            return Outcome(OutboxStatus.FAILED, exc.message[:300])
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            return Outcome(OutboxStatus.PENDING, f"{type(exc).__name__}: {exc}"[:300],
                           retry_in=-1)
        return Outcome(OutboxStatus.SENT, message_id=msg.message_id)

    async def _finish(self, row_id: int, attempts: int, outcome: Outcome,
                      member_id: int | None) -> None:
        now = utcnow()
        async with self.db.transaction() as s:
            row = await s.get(Outbox, row_id)
            if row is None:
                return
            row.attempts = attempts + 1
            row.last_error = outcome.error
            if outcome.status == OutboxStatus.PENDING:
                if outcome.retry_in is not None and outcome.retry_in >= 0:
                    row.not_before = now + timedelta(seconds=outcome.retry_in)
                    row.attempts = attempts  # waiting out a 429 is not a failed attempt
                elif row.attempts >= MAX_ATTEMPTS:
                    outcome.status = OutboxStatus.FAILED
                else:
                    backoff = min(2 ** row.attempts, MAX_BACKOFF_SECONDS)
                    row.not_before = now + timedelta(seconds=backoff)
            row.status = outcome.status
            if outcome.status == OutboxStatus.SENT:
                row.sent_at = now
                row.telegram_message_id = outcome.message_id
            if outcome.status == OutboxStatus.UNREACHABLE and member_id is not None:
                member = await s.get(Member, member_id)
                if member is not None and member.reachable:
                    member.reachable = False
