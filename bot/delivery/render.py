"""Turning an outbox row into a message in the recipient's language.

Each notification kind registers one renderer. A renderer gets the database and the row's payload
and returns the text and buttons, or None when the message no longer makes sense (the thing it
was about is gone) — then the row is dropped rather than sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from storage.db import Database


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    # Telegram file ids sent after the text (a broadcast's documents).
    documents: tuple[str, ...] = ()


Renderer = Callable[[Database, "Recipient", dict[str, Any]], Awaitable[Rendered | None]]


@dataclass(frozen=True)
class Recipient:
    member_id: int
    chat_id: int
    language: str


_RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        _RENDERERS[kind] = fn
        return fn

    return register


def get_renderer(kind: str) -> Renderer | None:
    # Importing the notice modules registers their renderers.
    from bot.delivery import broadcast_notices, digest_notices, notices  # noqa: F401

    return _RENDERERS.get(kind)
