"""The bot's session: getMe, logOut, close and getUpdates (long poll, offset, allowed_updates)."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from bot.sandbox.emulator.protocol import DEFAULT_UPDATE_TYPES, JSON, ApiError, Params
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, EmulatorState


@bot_method("logOut", "close")
def log_out_or_close(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    return True


@bot_method("getMe")
def get_me(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    return {
        **ctx.user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def set_allowed_updates(emu: EmulatorState, value: Any) -> None:
    if not isinstance(value, list):
        return
    allowed = frozenset(str(v) for v in value) if value else DEFAULT_UPDATE_TYPES
    emu._allowed_updates = allowed
    if any(kind not in allowed for _, kind, _ in emu._updates):
        kept = [item for item in emu._updates if item[1] in allowed]
        emu._counters["updates_dropped"] += len(emu._updates) - len(kept)
        emu._updates = deque(kept)


@bot_method("getUpdates")
async def get_updates(emu: EmulatorState, ctx: BotCtx, p: Params) -> list[JSON]:
    if emu._webhook["url"]:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = p.integer("offset")
    limit = p.integer("limit") or 100
    limit = min(max(limit, 1), 100)
    timeout = max(0, min(p.integer("timeout") or 0, 50))
    if p.has("allowed_updates"):
        set_allowed_updates(emu, p.json("allowed_updates"))
    queue = emu._updates
    if offset is not None and offset != 0:
        if offset > 0:
            while queue and queue[0][0] < offset:
                queue.popleft()
        else:
            while len(queue) > -offset:
                queue.popleft()
    token = object()
    if emu._poller is not None:
        emu._updates_signal.notify()  # wake the previous poller: it gets 409
    emu._poller = token
    deadline = time.monotonic() + timeout
    while True:
        if emu._poller is not token:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        queue = emu._updates
        if queue:
            emu._poller = None
            return [item[2] for _, item in zip(range(limit), queue, strict=False)]
        left = deadline - time.monotonic()
        if left <= 0 or emu._closing:
            emu._poller = None
            return []
        await emu._updates_signal.wait(left)
