"""The wire: Telegram's constants, errors and request parameters (JSON, form, multipart).

Everything here is shared by every other module of the emulator and imports none of them.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

# When the request being handled was admitted under the rate limits (wall clock; set by
# `limits.check_rate`): the call log records this moment, so messages per second counted from the
# log are what the limiter counted. Each request is handled in its own task, so this is per call.
ADMITTED: ContextVar[float | None] = ContextVar("emulator_admitted", default=None)

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
DEFAULT_TOPIC_COLOR = 7322096
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
HTTP_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
FILE_ID_PREFIX = {
    "document": "BQACAgIAAxkBAA",
    "photo": "AgACAgIAAxkBAA",
    "video": "BAACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA",
    "audio": "CQACAgIAAxkBAA",
    "sticker": "CAACAgIAAxkBAA",
    "animation": "CgACAgIAAxkBAA",
}
FILE_DIR = {
    "document": "documents",
    "photo": "photos",
    "video": "videos",
    "voice": "voice",
    "audio": "music",
    "sticker": "stickers",
    "animation": "animations",
}
# 1x1 transparent PNG used when a test uploads a photo without content.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
BOT_COMMAND_AT_START = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class ApiError(Exception):
    """A Bot API refusal, rendered as Telegram's ``{"ok": false, ...}`` body."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class HeldError(ApiError):
    """Answer to an injected "timeout" after the hold (already logged as held)."""


def bad(reason: str) -> ApiError:
    return ApiError(400, "Bad Request: " + reason)


class ControlError(Exception):
    """An error of the control API (not a Telegram error)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Upload:
    """A file part received in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Bot API parameters from JSON, form, multipart or the query string.

    aiogram sends strings raw and everything else JSON-encoded, so values are converted on
    access according to the type the caller expects, like the real Bot API does.
    """

    __slots__ = ("files", "raw")

    def __init__(self, raw: JSON, files: dict[str, Upload]) -> None:
        self.raw = raw
        self.files = files

    def has(self, key: str) -> bool:
        value = self.raw.get(key)
        return value is not None and value != ""

    def string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return dumps(value)

    def integer(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            try:
                return int(float(str(value)))
            except ValueError:
                raise bad(f"invalid {key} specified") from None

    def number(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {key} specified") from None

    def flag(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, key: str, error: str | None = None) -> Any:
        value = self.raw.get(key)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad(error or f"can't parse {key} JSON object") from None
        return value

    def summary(self) -> JSON:
        out: JSON = {}
        for key, value in self.raw.items():
            if isinstance(value, str) and len(value) > 300:
                value = value[:300] + "…"
            out[key] = value
        for key, upload in self.files.items():
            out[key] = f"<file {upload.filename!r} {len(upload.data)} bytes>"
        return out


BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
DISPOSITION_PARAM_RE = re.compile(
    r'(?<![\w-])(name|filename)(\*?)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.IGNORECASE
)


def parse_multipart(body: bytes, boundary: bytes, raw: JSON, files: dict[str, Upload]) -> bool:
    """Fast multipart/form-data parser (aiohttp's is ~5x slower); False if malformed."""
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        return False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            return False
        if content.endswith(b"\r\n"):
            content = content[:-2]
        name: str | None = None
        filename: str | None = None
        content_type: str | None = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "content-disposition":
                for m in DISPOSITION_PARAM_RE.finditer(value):
                    param, star, quoted, bare = m.groups()
                    text = quoted.replace('\\"', '"') if quoted is not None else bare
                    if star:
                        text = urllib.parse.unquote(text.split("'", 2)[-1])
                    if param.lower() == "name":
                        name = text
                    else:
                        filename = text
            elif key == "content-type":
                content_type = value.strip()
        if name is None:
            continue
        if filename is not None:
            files[name] = Upload(filename, content_type, content)
        else:
            raw[name] = content.decode("utf-8", "replace")
    return True


async def read_params(request: web.Request) -> Params:
    raw: JSON = dict(request.query) if request.query_string else {}
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.body_exists:
        header = request.headers.get("Content-Type", "")
        content_type = header.partition(";")[0].strip().lower()
        try:
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad("can't parse JSON encoded request") from None
                if isinstance(body, dict):
                    raw.update(body)
            elif content_type == "multipart/form-data":
                match = BOUNDARY_RE.search(header)
                data = await request.read()
                boundary = (match.group(1) or match.group(2)).encode() if match else b""
                if not boundary or not parse_multipart(data, boundary, raw, files):
                    raise bad("can't parse multipart/form-data request")
            elif content_type == "application/x-www-form-urlencoded":
                data = await request.read()
                for key, value in urllib.parse.parse_qsl(
                    data.decode("utf-8", "replace"), keep_blank_values=True
                ):
                    raw[key] = value
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
    return Params(raw, files)
