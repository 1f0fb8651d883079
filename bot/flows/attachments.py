"""Turning a document or photo a member sent into an attachment record (Telegram file id, name,
size), refused with the limit named when it is too large or of a type Birge does not keep."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message

from bot.i18n import _
from bot.services import questions
from storage.enums import AttachmentKind


def attachment_of(message: Message) -> dict[str, Any]:
    if message.document is not None:
        doc = message.document
        questions.check_attachment(AttachmentKind.DOCUMENT, doc.file_size, doc.mime_type)
        return {"file_id": doc.file_id, "kind": AttachmentKind.DOCUMENT.value,
                "name": (doc.file_name or _("document"))[:100], "size": doc.file_size or 0,
                "mime": doc.mime_type}
    assert message.photo
    photo = message.photo[-1]  # the largest size Telegram made
    questions.check_attachment(AttachmentKind.PHOTO, photo.file_size, "image/jpeg")
    return {"file_id": photo.file_id, "kind": AttachmentKind.PHOTO.value, "name": _("photo"),
            "size": photo.file_size or 0}
