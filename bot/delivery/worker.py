"""The outbox worker: claims due rows, renders each in its recipient's language and sends it.

Per-row state lives in the database (pending → sending → sent / failed / unreachable /
cancelled), so a crash loses nothing. Several replicas may run a worker on one database: a row is
claimed with `FOR UPDATE SKIP LOCKED` (on PostgreSQL; SQLite has one writer) and marked with its
claimer and a claim expiry that the claimer renews while the row is in flight. Recovery — at
start and every few seconds after — puts back in the queue only rows whose claim expired (their
process died), never another live replica's. Rows are claimed in small batches and their
outcomes written back every `FLUSH_SECONDS`, so the only possible duplicates after a crash are
the rows that were in flight at that moment.

Telegram's answers decide what happens next: 429 waits `retry_after` and retries; 5xx and network
errors retry with exponential backoff up to `MAX_ATTEMPTS`; 403 (blocked) and "chat not found"
mark the member unreachable instead of retrying forever. The pace is set by the bot's `SendGate`,
where these sends count as bulk and yield to replies to members acting now.

Before a row is sent the recipient's settings apply: a row of a kind they switched off is
cancelled ("muted"), and a non-urgent row claimed during their quiet hours goes back to the queue
until the window ends. Urgent rows (urgent broadcasts, answers to the member's own request) skip
both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy import bindparam
from sqlmodel import col, or_, select, update

from bot.delivery.attachments import send_attachment
from bot.delivery.limits import SendGate, bulk, prepaid
from bot.delivery.render import AfterSent, Recipient, Rendered, get_after_sent, get_renderer
from bot.i18n import in_locale
from bot.services import cache, notify
from bot.services.settings import QuietHours
from storage.db import Database
from storage.enums import OutboxStatus
from storage.models import Member, MemberSettings, Outbox
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300
FLUSH_SECONDS = 0.2
# A claim holds this long unless renewed; in-flight claims are renewed every RENEW_SECONDS and
# expired claims (a dead replica's) are recovered every RECOVER_SECONDS.
CLAIM_SECONDS = 30.0
RENEW_SECONDS = 10.0
RECOVER_SECONDS = 5.0


@dataclass
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    chat_id: int | None
    member_id: int | None
    language: str
    reachable: bool


@dataclass
class Outcome:
    status: OutboxStatus
    error: str | None = None
    retry_in: float | None = None
    message_id: int | None = None
    # What the after-sent hook also needs to know (a native poll's id).
    extra: dict[str, Any] | None = None


class OutboxWorker:
    def __init__(self, db: Database, bot: Bot, gate: SendGate, *,
                 rate_per_second: float = 30.0, poll_seconds: float = 1.0,
                 quiet: QuietHours | None = None, claim_seconds: float = CLAIM_SECONDS) -> None:
        self.db = db
        self.quiet = quiet
        self.bot = bot
        self.gate = gate
        self.poll_seconds = poll_seconds
        self.claim_seconds = claim_seconds
        self.shared = db.engine.dialect.name == "postgresql"
        self.renew_seconds = min(RENEW_SECONDS, claim_seconds / 3)
        self.recover_seconds = min(RECOVER_SECONDS, claim_seconds / 3)
        # Claim about half a second of sending at a time: enough to keep the pipe full, few
        # enough that a crash repeats little.
        self.batch = int(min(500, max(10, rate_per_second / 2)))
        self.lanes = int(min(64, max(4, rate_per_second / 5)))
        self._wake = asyncio.Event()
        self._stopping = False
        self._done: list[tuple[Claimed, Outcome]] = []
        self._in_flight: set[int] = set()
        # The next batch, claimed while the current one's last rows are sent (drain_once).
        self._next: asyncio.Task[tuple[list[Claimed], int]] | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._unsubscribe = notify.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def recover(self, *, everything: bool = False) -> int:
        """Rows whose claim expired (their process died while sending them) go back to the
        queue; rows another live process is sending are left alone. `everything`: every row
        in "sending" (SQLite at start: no other process can be sending)."""
        now = utcnow()
        stmt = update(Outbox).where(col(Outbox.status) == OutboxStatus.SENDING)
        if not everything:
            stmt = stmt.where(or_(col(Outbox.claimed_until).is_(None),
                                  col(Outbox.claimed_until) < now))
        async with self.db.transaction() as s:
            result = await s.exec(
                stmt.values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None))
            return int(result.rowcount or 0)

    async def _release(self) -> None:
        """Stopping: rows this process claimed but did not send go back to the queue now."""
        async with self.db.transaction() as s:
            await s.exec(
                update(Outbox)
                .where(col(Outbox.status) == OutboxStatus.SENDING,
                       col(Outbox.claimed_by) == self.holder)
                .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None))
        self._in_flight.clear()

    async def _renew(self) -> None:
        """Keep this process's claims on rows still in flight."""
        ids = list(self._in_flight)
        if not ids:
            return
        async with self.db.transaction() as s:
            await s.exec(
                update(Outbox)
                .where(col(Outbox.id).in_(ids), col(Outbox.claimed_by) == self.holder)
                .values(claimed_until=utcnow() + timedelta(seconds=self.claim_seconds))
            )

    async def run(self) -> None:
        await self.recover(everything=self.db.engine.dialect.name == "sqlite")
        flusher = asyncio.create_task(self._flush_loop(), name="outbox-flush")
        try:
            while not self._stopping:
                handled = await self.drain_once()
                if handled == 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            self._unsubscribe()
            if self._next is not None:  # its rows are released below with the others
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self._next
                self._next = None
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._flush()
            try:
                await self._release()
            except Exception as exc:  # the database may be gone: the claims then expire
                log.warning("could not release outbox claims at stop (%s: %s); they expire",
                            type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _claim(self) -> tuple[list[Claimed], int]:
        """Take a batch of due rows; returns the rows to send and how many rows were looked at
        (rows muted or held for quiet hours are handled without being sent)."""
        now = utcnow()
        quiet_until = self.quiet.until(now) if self.quiet is not None else None
        async with self.db.transaction() as s:
            rows = (
                await s.exec(
                    select(Outbox, Member, MemberSettings)
                    .join(Member, col(Member.id) == Outbox.member_id, isouter=True)
                    .join(MemberSettings, col(MemberSettings.member_id) == Outbox.member_id,
                          isouter=True)
                    .where(Outbox.status == OutboxStatus.PENDING)
                    .where(or_(col(Outbox.not_before).is_(None), col(Outbox.not_before) <= now))
                    .order_by(col(Outbox.priority), col(Outbox.id))
                    .limit(self.batch)
                    # Another replica's claim in progress is skipped, not waited for.
                    .with_for_update(skip_locked=True, of=Outbox)
                )
            ).all()
            send: list[tuple[Outbox, Member | None]] = []
            muted: list[int] = []
            held: list[int] = []
            for o, m, prefs in rows:
                if o.member_id is None or notify.is_urgent(o.kind, o.payload):
                    send.append((o, m))
                elif prefs is not None and notify.category_of(o.kind, o.payload) in prefs.muted:
                    muted.append(o.id or 0)
                elif quiet_until is not None and (prefs is None or prefs.quiet_hours):
                    held.append(o.id or 0)
                else:
                    send.append((o, m))
            if send:
                await s.exec(
                    update(Outbox)
                    .where(col(Outbox.id).in_([o.id for o, _ in send]))
                    .values(status=OutboxStatus.SENDING, claimed_by=self.holder,
                            claimed_until=now + timedelta(seconds=self.claim_seconds))
                )
                self._in_flight.update(o.id or 0 for o, _ in send)
            if muted:
                await s.exec(update(Outbox).where(col(Outbox.id).in_(muted))
                             .values(status=OutboxStatus.CANCELLED, last_error="muted"))
            if held:
                await s.exec(update(Outbox).where(col(Outbox.id).in_(held))
                             .values(not_before=quiet_until))
        return [
            Claimed(
                id=o.id or 0, kind=o.kind, payload=dict(o.payload), attempts=o.attempts,
                chat_id=o.chat_id or (m.telegram_id if m else None), member_id=o.member_id,
                language=m.language if m else "ky",
                reachable=m.reachable if m else True,
            )
            for o, m in send
        ], len(rows)

    async def drain_once(self) -> int:
        """Send one batch of due rows; returns how many rows were handled.

        When a lane takes the batch's last row, the next batch is claimed at once, while the
        last rows are still being sent: the gate's next slot then finds rows waiting instead of
        going unused while the claim runs (at Telegram's cap a slot is 34 ms)."""
        if self._next is not None:
            task, self._next = self._next, None
            claimed, seen = await task
        else:
            claimed, seen = await self._claim()
        if not claimed:
            return seen
        queue: asyncio.Queue[Claimed] = asyncio.Queue()
        for row in claimed:
            queue.put_nowait(row)

        async def lane() -> None:
            with bulk():
                while not queue.empty():
                    row = queue.get_nowait()
                    if queue.empty() and self._next is None and not self._stopping:
                        self._next = asyncio.create_task(self._claim(), name="outbox-claim")
                    outcome = await self._deliver(row)
                    if outcome is None:  # another replica took the row over: not ours
                        self._in_flight.discard(row.id)
                        continue
                    # Appended after the await: _flush swaps the list while sends are in flight.
                    self._done.append((row, outcome))

        await asyncio.gather(*(lane() for _ in range(min(self.lanes, len(claimed)))))
        return seen

    async def _still_mine(self, row_id: int) -> bool:
        """Several replicas: just before sending, the claim is checked (and renewed). A replica
        so slow that its claim expired and another took the row over leaves it to that one."""
        async with self.db.transaction() as s:
            result = await s.exec(
                update(Outbox)
                .where(col(Outbox.id) == row_id, col(Outbox.claimed_by) == self.holder,
                       col(Outbox.status) == OutboxStatus.SENDING)
                .values(claimed_until=utcnow() + timedelta(seconds=self.claim_seconds)))
            return bool(result.rowcount)

    async def _deliver(self, row: Claimed) -> Outcome | None:
        if not row.reachable:
            return Outcome(OutboxStatus.UNREACHABLE, "member unreachable")
        if row.chat_id is None:
            return Outcome(OutboxStatus.UNREACHABLE, "no Telegram account")
        render = get_renderer(row.kind)
        if render is None:
            return Outcome(OutboxStatus.FAILED, f"no renderer for {row.kind}")
        # Wait for the slot first and render after: what is rendered is what is current then
        # (a broadcast cancelled while this row waited is not sent).
        slot = await self.gate.acquire(row.chat_id, bulk=True)
        if self.shared and not await self._still_mine(row.id):
            return None
        prepaid(slot)
        to = Recipient(row.member_id or 0, row.chat_id, row.language)
        try:
            with in_locale(to.language):
                rendered = await render(self.db, to, row.payload)
        except Exception as exc:  # a broken renderer must not stop the queue
            log.exception("rendering %s failed", row.kind)
            return Outcome(OutboxStatus.FAILED, f"render: {exc}"[:300])
        if rendered is None:
            return Outcome(OutboxStatus.CANCELLED, "no longer relevant")
        return await self._send(to, rendered)

    async def _send(self, to: Recipient, rendered: Rendered) -> Outcome:
        try:
            if rendered.poll is not None or rendered.stop_poll is not None:
                return await self._poll(to, rendered)
            if rendered.edit is not None:
                return await self._edit(to, rendered.edit, rendered)
            msg = await self.bot.send_message(to.chat_id, rendered.text,
                                              reply_markup=rendered.markup,
                                              message_thread_id=rendered.thread_id)
            for item in rendered.attachments:
                await send_attachment(self.bot, to.chat_id, item, thread_id=rendered.thread_id)
            for image in rendered.photos:
                await self.bot.send_photo(to.chat_id, image,
                                          message_thread_id=rendered.thread_id)
            for upload in rendered.uploads:
                await self.bot.send_document(to.chat_id, upload,
                                             message_thread_id=rendered.thread_id)
        except TelegramRetryAfter as exc:
            return Outcome(OutboxStatus.PENDING, "429", retry_in=float(exc.retry_after))
        except TelegramForbiddenError as exc:
            return Outcome(OutboxStatus.UNREACHABLE, exc.message[:300])
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                return Outcome(OutboxStatus.UNREACHABLE, exc.message[:300])
            log.error("outbox message refused: %s", exc.message)
            return Outcome(OutboxStatus.FAILED, exc.message[:300])
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            return Outcome(OutboxStatus.PENDING, f"{type(exc).__name__}: {exc}"[:300],
                           retry_in=-1)
        return Outcome(OutboxStatus.SENT, message_id=msg.message_id)

    async def _edit(self, to: Recipient, message_id: int, rendered: Rendered) -> Outcome:
        """Edit an earlier message (a notice whose decision was taken by someone else)."""
        try:
            await self.bot.edit_message_text(rendered.text, chat_id=to.chat_id,
                                             message_id=message_id, reply_markup=rendered.markup)
        except TelegramBadRequest as exc:
            text = exc.message.lower()
            if "not modified" in text or "not found" in text or "can't be edited" in text:
                return Outcome(OutboxStatus.SENT, message_id=message_id)
            raise
        return Outcome(OutboxStatus.SENT, message_id=message_id)

    async def _poll(self, to: Recipient, rendered: Rendered) -> Outcome:
        """A native poll (a survey's quick poll), or stopping one at its deadline."""
        if rendered.stop_poll is not None:
            await self.bot.stop_poll(to.chat_id, rendered.stop_poll)
            return Outcome(OutboxStatus.SENT, message_id=rendered.stop_poll)
        poll = rendered.poll or {}
        msg = await self.bot.send_poll(
            to.chat_id, poll["question"], poll["options"], is_anonymous=False,
            allows_multiple_answers=bool(poll.get("multiple")),
            message_thread_id=rendered.thread_id)
        extra = {"poll_id": msg.poll.id, "chat_id": to.chat_id} if msg.poll else None
        return Outcome(OutboxStatus.SENT, message_id=msg.message_id, extra=extra)

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        renew_at = recover_at = loop.time()
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self._flush()
            try:
                if loop.time() >= renew_at:
                    renew_at = loop.time() + self.renew_seconds
                    await self._renew()
                if loop.time() >= recover_at:
                    recover_at = loop.time() + self.recover_seconds
                    if await self.recover():
                        self.wake()
            except Exception:
                log.exception("renewing or recovering outbox claims failed")

    async def _flush(self) -> None:
        """Write the outcomes gathered so far in one transaction."""
        done, self._done = self._done, []
        if not done:
            return
        now = utcnow()
        updates: list[dict[str, Any]] = []
        unreachable: set[int] = set()
        hooks: list[tuple[AfterSent, dict[str, Any], int]] = []
        for row, outcome in done:
            attempts = row.attempts + 1
            status, not_before = outcome.status, None
            if status == OutboxStatus.PENDING:
                if outcome.retry_in is not None and outcome.retry_in >= 0:
                    not_before = now + timedelta(seconds=outcome.retry_in)
                    attempts = row.attempts  # waiting out a 429 is not a failed attempt
                elif attempts >= MAX_ATTEMPTS:
                    status = OutboxStatus.FAILED
                else:
                    not_before = now + timedelta(seconds=min(2 ** attempts, MAX_BACKOFF_SECONDS))
            if status == OutboxStatus.UNREACHABLE and row.member_id is not None:
                unreachable.add(row.member_id)
            hook = get_after_sent(row.kind) if status == OutboxStatus.SENT else None
            if hook is not None and outcome.message_id is not None:
                hooks.append((hook, {**row.payload, **(outcome.extra or {})},
                              outcome.message_id))
            updates.append({
                "row_id": row.id, "status": str(status), "attempts": attempts,
                "not_before": not_before, "last_error": outcome.error,
                "sent_at": now if status == OutboxStatus.SENT else None,
                "message_id": outcome.message_id,
            })
        try:
            async with self.db.transaction() as s:
                stmt = (
                    update(Outbox)
                    .where(col(Outbox.id) == bindparam("row_id"))
                    .values(claimed_until=None,
                            status=bindparam("status"), attempts=bindparam("attempts"),
                            not_before=bindparam("not_before"),
                            last_error=bindparam("last_error"), sent_at=bindparam("sent_at"),
                            telegram_message_id=bindparam("message_id"))
                )
                conn = await s.connection()
                await conn.execute(stmt, updates)
                for hook, payload, message_id in hooks:
                    await hook(s, payload, message_id)
                if unreachable:
                    await s.exec(
                        update(Member)
                        .where(col(Member.id).in_(unreachable), col(Member.reachable))
                        .values(reachable=False)
                    )
        except Exception:
            log.exception("recording %d outbox outcomes failed; retrying", len(done))
            self._done[:0] = done
            return
        self._in_flight.difference_update(row.id for row, _ in done)
        if unreachable:
            cache.clear_all()
        if any(o.status == OutboxStatus.PENDING for _, o in done):
            self.wake()

