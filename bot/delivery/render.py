"""Turning an outbox row into a message in the recipient's language: the table of renderers.

Each notification kind registers one renderer. A renderer gets the database and the row's payload
and returns the text and buttons, or None when the message no longer makes sense (the thing it
was about is gone) — then the row is dropped rather than sent.

A feature registers itself in its own module, `bot/delivery/<feature>_notices.py`:

    @renderer("question_answered")
    async def question_answered(db: Database, to: Recipient, payload: dict[str, Any]
                                ) -> Rendered | None: ...

and lists that module in `bot/delivery/__init__.py`, whose import (the worker's) registers every
feature. This module imports no feature, so the notice modules and it never import each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup, InputFile
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.attachments import Attachment
from storage.db import Database


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    # Files sent after the text, each by its kind (`bot.delivery.attachments`).
    attachments: tuple[Attachment, ...] = ()
    # Files made for this recipient (an event's calendar file), sent as documents after them.
    uploads: tuple[InputFile, ...] = ()
    # Images made for this recipient (a survey's charts), sent as photos after the text.
    photos: tuple[InputFile, ...] = ()
    # A forum topic's thread, for posts in the forum supergroup.
    thread_id: int | None = None
    # A native poll sent instead of the text: {"question", "options", "multiple"}.
    poll: dict[str, Any] | None = None
    # Stop the native poll in this message of the chat (nothing is sent).
    stop_poll: int | None = None
    # Edit this message of the chat to `text` and `markup` instead of sending (a settled notice).
    edit: int | None = None


Renderer = Callable[[Database, "Recipient", dict[str, Any]], Awaitable[Rendered | None]]


@dataclass(frozen=True)
class Recipient:
    member_id: int
    chat_id: int
    language: str


# Called in the transaction that records a row as sent, with its payload and the message id
# (a forum post remembers its message so that replies in the thread can be matched to it).
AfterSent = Callable[[AsyncSession, dict[str, Any], int], Awaitable[None]]

_RENDERERS: dict[str, Renderer] = {}
_AFTER_SENT: dict[str, AfterSent] = {}


def renderer(kind: str, after_sent: AfterSent | None = None
             ) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        _RENDERERS[kind] = fn
        if after_sent is not None:
            _AFTER_SENT[kind] = after_sent
        return fn

    return register


def get_renderer(kind: str) -> Renderer | None:
    return _RENDERERS.get(kind)


def get_after_sent(kind: str) -> AfterSent | None:
    return _AFTER_SENT.get(kind)
