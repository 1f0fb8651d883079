"""Turning a document or photo a member sent into an attachment record (Telegram file id, name,
size), refused with the limit named when it is too large or of a type Birge does not keep."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message

from bot.services import files
from storage.enums import AttachmentKind


def attachment_of(message: Message) -> dict[str, Any]:
    if message.document is not None:
        doc = message.document
        name = files.check_file(doc.file_name, doc.mime_type, doc.file_size)
        return {"file_id": doc.file_id, "kind": AttachmentKind.DOCUMENT.value, "name": name,
                "size": doc.file_size or 0, "mime": doc.mime_type}
    assert message.photo
    photo = message.photo[-1]  # the largest size Telegram made
    name = files.check_file(None, "image/jpeg", photo.file_size)
    return {"file_id": photo.file_id, "kind": AttachmentKind.PHOTO.value, "name": name,
            "size": photo.file_size or 0, "mime": "image/jpeg"}
