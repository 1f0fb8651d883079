"""The one rule for files members attach (questions, answers, legal cases, national issues,
dossier responses): which types Birge keeps and how large they may be.

A type is judged by the file name's extension, which is what the member sees and chose; a photo
Telegram sends has no name and is kept as "photo.jpg". The size limit is what a bot may download
from Telegram (20 MB).
"""

from __future__ import annotations

from bot.services.errors import InvalidInput

MAX_MB = 20
# What anyone can open on a phone: office documents, PDF, text, photos of paper.
EXTENSIONS = ("pdf", "doc", "docx", "xls", "xlsx", "odt", "ods", "rtf", "txt", "jpg", "jpeg",
              "png")
TYPES = "PDF, DOC, DOCX, XLS, XLSX, ODT, ODS, RTF, TXT, JPG, PNG"
_PHOTOS = {"image/jpeg": "photo.jpg", "image/png": "photo.png"}


def check_file(name: str | None, mime_type: str | None, size: int | None,
               max_mb: int = MAX_MB) -> str:
    """The file's name as kept, or `InvalidInput` naming the size limit or the allowed types."""
    if (size or 0) > max_mb * 1024 * 1024:
        raise InvalidInput("file_size", limit=max_mb)
    clean = (name or "").strip()[:100]
    if not clean and mime_type in _PHOTOS:
        clean = _PHOTOS[mime_type]
    extension = clean.rsplit(".", 1)[-1].lower() if "." in clean else ""
    if extension not in EXTENSIONS:
        raise InvalidInput("file_type", types=TYPES)
    return clean
