"""Telegram's sending limits as an async rate limiter: overall messages per second, and a minimum
interval per chat. A 429 pauses everyone for its `retry_after`."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    def __init__(self, per_second: float, per_chat_per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.chat_interval = 1.0 / per_chat_per_second if per_chat_per_second > 0 else 0.0
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` may go out, and reserve that slot."""
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next_global, self._paused_until,
                     self._next_chat.get(chat_id, 0.0))
            self._next_global = at + self.interval
            self._next_chat[chat_id] = at + self.chat_interval
            if len(self._next_chat) > 50_000:
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
