"""The table of Bot API methods: name (case-insensitive, as Telegram) -> function.

An area module in ``methods/`` registers each method it serves::

    @bot_method("sendPoll")
    def send_poll(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON: ...

The function gets the emulator's state, the calling bot and the request's parameters; it
returns the ``result`` of Telegram's answer, or raises ``ApiError`` (usually ``bad(...)``)
for Telegram's refusal. It may be ``async`` (``getUpdates`` long-polls). Registering a name
twice is an error, so two areas can't silently serve the same method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.sandbox.emulator.protocol import Params
from bot.sandbox.emulator.state import BotCtx, EmulatorState

BotMethod = Callable[[EmulatorState, BotCtx, Params], Any]
Method = TypeVar("Method", bound=BotMethod)

METHODS: dict[str, BotMethod] = {}


def register(name: str, handler: BotMethod) -> None:
    """Serve the Bot API method ``name`` (e.g. ``"sendMessage"``) with ``handler``."""
    key = name.lower()
    if key in METHODS:
        raise ValueError(f"Bot API method {name} is registered twice")
    METHODS[key] = handler


def bot_method(*names: str) -> Callable[[Method], Method]:
    """Decorator: serve the Bot API method(s) ``names`` with the decorated function."""

    def decorate(handler: Method) -> Method:
        for name in names:
            register(name, handler)
        return handler

    return decorate
