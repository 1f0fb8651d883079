"""Files: send* for every media kind, getFile, and the file store (ids, paths, photo sizes).

Downloads (``/file/bot<token>/<path>``) are served by ``core``; uploads by people come from
``control.upload``. Like Telegram, a file_id is only accepted as its own kind: a photo's id
sent with sendDocument is refused ("can't use file of type Photo as Document").
"""

from __future__ import annotations

import mimetypes
import secrets
import struct

from bot.sandbox.emulator.methods.messages import bot_send, format_text, markup_for
from bot.sandbox.emulator.protocol import (
    DOWNLOAD_LIMIT,
    FILE_DIR,
    FILE_ID_PREFIX,
    JSON,
    UPLOAD_LIMIT,
    ApiError,
    Params,
    bad,
)
from bot.sandbox.emulator.registry import BotMethod, bot_method, register
from bot.sandbox.emulator.state import BotCtx, EmulatorState, File


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width/height of PNG, JPEG, GIF, BMP or WEBP bytes; None if not an image."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(int(w)), abs(int(h))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                pos += 1
                continue
            marker = data[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(w), int(h)
            pos += 2 + length
        return 640, 480
    return None


def store_file(
    emu: EmulatorState,
    kind: str,
    data: bytes,
    *,
    file_name: str | None = None,
    mime_type: str | None = None,
    width: int = 0,
    height: int = 0,
    duration: int = 0,
    file_id: str | None = None,
) -> File:
    """Keep a file and give it an id (or the `file_id` given: the sandbox's demo files keep
    theirs across restarts, since the database that refers to them outlives the emulator)."""
    emu._file_counter += 1
    n = emu._file_counter
    file_id = file_id or \
        f"{FILE_ID_PREFIX.get(kind, 'BQACAgIAAxkBAA')}{n:05d}{secrets.token_urlsafe(18)}"
    unique_id = f"AgAD{n:05d}{secrets.token_urlsafe(6)}"
    extension = ""
    if kind == "photo":
        extension = ".jpg"
    elif file_name and "." in file_name:
        extension = "." + file_name.rsplit(".", 1)[1][:10]
    elif kind == "voice":
        extension = ".oga"
    elif kind in ("video", "animation"):
        extension = ".mp4"
    elif kind == "sticker":
        extension = ".webp"
    path = f"{FILE_DIR.get(kind, 'documents')}/file_{n}{extension}"
    stored = File(
        file_id, unique_id, kind, data, path, file_name, mime_type, width, height, duration
    )
    emu._files[file_id] = stored
    emu._files_by_path[path] = stored
    return stored


def store_photo(emu: EmulatorState, data: bytes, width: int, height: int) -> list[JSON]:
    sizes: list[tuple[int, int]] = []
    if max(width, height) > 320:
        scale = 90 / max(width, height)
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    sizes.append((width, height))
    photo: list[JSON] = []
    for w, h in sizes:
        stored = store_file(emu, "photo", data, mime_type="image/jpeg", width=w, height=h)
        photo.append({**stored.info(), "width": w, "height": h})
    for item in photo:
        emu._files[item["file_id"]].photo_sizes = photo
    return photo


def media_json(stored: File) -> JSON | list[JSON]:
    if stored.kind == "photo":
        return stored.photo_sizes or [
            {**stored.info(), "width": stored.width, "height": stored.height}
        ]
    out = stored.info()
    if stored.kind in ("document", "video", "audio", "animation") and stored.file_name:
        out["file_name"] = stored.file_name
    if stored.kind in ("document", "video", "audio", "voice", "animation") and stored.mime_type:
        out["mime_type"] = stored.mime_type
    if stored.kind in ("video", "animation", "sticker"):
        out["width"] = stored.width or 512
        out["height"] = stored.height or 512
    if stored.kind in ("video", "audio", "voice", "animation"):
        out["duration"] = stored.duration
    if stored.kind == "sticker":
        out.update({"type": "regular", "is_animated": False, "is_video": False, "emoji": "🙂"})
    return out


def input_file(emu: EmulatorState, p: Params, kind: str) -> File | list[JSON]:
    upload = p.files.get(kind)
    if upload is None:
        value = p.string(kind)
        if not value:
            raise bad(f"there is no {kind} in the request")
        if value.startswith("attach://"):
            upload = p.files.get(value[len("attach://") :])
            if upload is None:
                raise bad(f"there is no {kind} in the request")
        elif value.startswith(("http://", "https://")):
            raise bad("failed to get HTTP URL content")
        else:
            existing = emu._files.get(value)
            if existing is None:
                raise bad("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise bad(f"can't use file of type {existing.kind.title()} as {kind.title()}")
            return existing
    if not upload.data:
        raise bad("file must be non-empty")
    if len(upload.data) > UPLOAD_LIMIT:
        raise ApiError(413, "Request Entity Too Large")
    if kind == "photo":
        size = image_size(upload.data)
        if size is None:
            raise bad("IMAGE_PROCESS_FAILED")
        return store_photo(emu, upload.data, *size)
    mime = mimetypes.guess_type(upload.filename or "")[0]
    if mime is None and upload.content_type not in (None, "application/octet-stream"):
        mime = upload.content_type
    if mime is None:
        mime = {"voice": "audio/ogg", "video": "video/mp4", "sticker": "image/webp"}.get(
            kind, "application/octet-stream"
        )
    return store_file(
        emu,
        kind,
        upload.data,
        file_name=upload.filename if kind != "sticker" else None,
        mime_type=mime,
        width=p.integer("width") or 0,
        height=p.integer("height") or 0,
        duration=p.integer("duration") or 0,
    )


def send_media(emu: EmulatorState, ctx: BotCtx, p: Params, kind: str) -> JSON:
    caption, entities, raw = (None, None, None)
    if kind != "sticker":
        caption, entities, raw = format_text(p, "caption", required=False)
    markup = markup_for(p)
    chat = emu._chat_for(p)
    media = input_file(emu, p, kind)
    content: JSON = {kind: media if isinstance(media, list) else media_json(media)}
    if caption is not None:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    return bot_send(emu, ctx, chat, p, content, raw_text=raw, markup=markup)


@bot_method("getFile")
def get_file(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    stored = emu._files.get(p.string("file_id") or "")
    if stored is None:
        raise bad("invalid file_id")
    if len(stored.data) > DOWNLOAD_LIMIT:
        raise bad("file is too big")
    return {**stored.info(), "file_path": stored.file_path}


def _sender(kind: str) -> BotMethod:
    def send(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
        return send_media(emu, ctx, p, kind)

    send.__name__ = f"send_{kind}"
    return send


for _kind in ("document", "photo", "video", "audio", "voice", "animation", "sticker"):
    register("send" + _kind.title(), _sender(_kind))
