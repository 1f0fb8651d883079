"""The one way Birge sends a stored attachment: a photo as a photo, anything else as a document.

Members attach documents and photos to questions, answers, legal cases and national issues; staff
attach documents to broadcasts and dossier responses. Telegram keeps the bytes and Birge the file
id, and Telegram refuses a file id sent as another kind ("can't use file of type Photo as
Document"). So every place that sends one back (the outbox worker for notices, the handlers'
"files" buttons) goes through `send_attachment`, which picks the Bot API method by the kind.

The kind is the one stored with the attachment (`"kind"`: `AttachmentKind`) when there is one.
Rows kept without it (legal documents, issue documents from before, broadcast documents) get it
from the file id itself: its first byte is Telegram's file type (2 photo, 5 document...), which
is how Telegram tells them apart.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message

from storage.enums import AttachmentKind

log = logging.getLogger(__name__)

_PHOTO_TYPE = 2  # Telegram's file type id of a photo, the first byte of its file id


class _HasFileId(Protocol):
    @property
    def file_id(self) -> str: ...


@dataclass(frozen=True)
class Attachment:
    file_id: str
    kind: AttachmentKind = AttachmentKind.DOCUMENT
    name: str | None = None


def kind_of(file_id: str, stored: str | None = None) -> AttachmentKind:
    """The attachment's kind: the stored one, else what the file id says."""
    if stored in (AttachmentKind.PHOTO.value, AttachmentKind.DOCUMENT.value):
        return AttachmentKind(stored)
    try:
        first = base64.urlsafe_b64decode(file_id[:4])[:1]
    except (binascii.Error, ValueError):
        return AttachmentKind.DOCUMENT
    return AttachmentKind.PHOTO if first == bytes([_PHOTO_TYPE]) else AttachmentKind.DOCUMENT


def attachment(item: Mapping[str, Any] | _HasFileId) -> Attachment:
    """An attachment from what a feature stores: a dict (`file_id`, optional `kind`, `name`) or
    an object with `file_id` and optionally `name` (a legal `Doc`, a `LegalDocument` row)."""
    if isinstance(item, Mapping):
        file_id = str(item["file_id"])
        return Attachment(file_id, kind_of(file_id, item.get("kind")), item.get("name"))
    name = getattr(item, "name", None)
    return Attachment(item.file_id, kind_of(item.file_id, getattr(item, "kind", None)),
                      str(name) if name else None)


def attachments(items: Iterable[Mapping[str, Any] | _HasFileId]) -> tuple[Attachment, ...]:
    return tuple(attachment(item) for item in items)


async def send_attachment(bot: Bot, chat_id: int, item: Attachment, *,
                          thread_id: int | None = None, caption: str | None = None) -> Message:
    """Send one attachment by its kind (`caption` is HTML, at most 1,024 characters)."""
    if item.kind == AttachmentKind.PHOTO:
        return await bot.send_photo(chat_id, item.file_id, caption=caption,
                                    message_thread_id=thread_id)
    return await bot.send_document(chat_id, item.file_id, caption=caption,
                                   message_thread_id=thread_id)


async def send_attachments(bot: Bot, chat_id: int,
                           items: Iterable[Mapping[str, Any] | _HasFileId | Attachment], *,
                           named: bool = False) -> int:
    """Send each attachment in order (with its name as the caption when `named`), for a member
    who pressed a "files" button. One that Telegram refuses (a file it no longer has) is logged
    and skipped, so the others still arrive. How many were sent."""
    sent = 0
    for item in items:
        found = item if isinstance(item, Attachment) else attachment(item)
        caption = html.escape(found.name) if named and found.name else None
        try:
            await send_attachment(bot, chat_id, found, caption=caption)
        except TelegramBadRequest as exc:
            log.warning("attachment %s not sent: %s", found.file_id[:20], exc.message)
            continue
        sent += 1
    return sent
