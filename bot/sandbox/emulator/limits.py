"""Telegram's limits on the bot: blocked chats (403) and flood control (429).

``rate_limit_per_second`` (all chats) and ``per_chat_per_second`` (one chat) are sliding
windows, off unless configured; a send over either is refused with ``retry_after`` like
Telegram's. Text and caption lengths are checked where the text is parsed (``methods/messages``).
"""

from __future__ import annotations

import math
import time
from collections import deque

from bot.sandbox.emulator.protocol import ADMITTED, ApiError
from bot.sandbox.emulator.state import Chat, EmulatorState


def window_retry_after(window: deque[float], now: float, limit: float) -> int | None:
    """Sliding-window check; returns retry_after seconds when ``limit`` is exhausted."""
    if limit >= 1:
        count, span = int(limit), 1.0
    else:
        count, span = 1, 1.0 / limit
    horizon = now - span
    while window and window[0] <= horizon:
        window.popleft()
    if len(window) >= count:
        return max(1, math.ceil(window[0] + span - now))
    return None


def check_blocked(emu: EmulatorState, chat: Chat) -> None:
    if chat.type == "private" and chat.id in emu._blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")


def check_rate(emu: EmulatorState, chat: Chat) -> None:
    now = time.monotonic()
    limit = emu.rate_limit_per_second
    if limit:
        retry = window_retry_after(emu._global_window, now, limit)
        if retry is not None:
            emu._counters["rate_limited"] += 1
            emu._counters["rate_limited_bot"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
    per_chat = emu.per_chat_per_second
    if per_chat:
        retry = window_retry_after(chat.rate, now, per_chat)
        if retry is not None:
            emu._counters["rate_limited"] += 1
            emu._counters["rate_limited_chat"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        chat.rate.append(now)
    if limit:
        emu._global_window.append(now)
    ADMITTED.set(time.time() - (time.monotonic() - now))
