"""In-memory Telegram Bot API emulator for Birge tests and benchmarks.

Why this exists: Birge must be exercised end-to-end with an *unmodified* aiogram bot, but
tests cannot reach Telegram. This module serves the subset of the Bot API Birge uses on
127.0.0.1 (same URLs, JSON shapes and error texts as Telegram, including its refusals and
429 flood limits) plus a JSON control API under ``/control/`` through which tests act as
people (send text, press buttons, upload files, block the bot) and observe what the bot did.

Run standalone with ``python -m bot.sandbox.emulator --host 127.0.0.1 --port 8081`` or in a
test with ``async with run_emulator() as url: ...`` (see ``EmulatorServer``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import json
import math
import mimetypes
import re
import secrets
import struct
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.formatting import EntityParseError, parse_text

__all__ = [
    "EMULATOR_KEY",
    "ApiError",
    "BotAPIEmulator",
    "EmulatorServer",
    "create_app",
    "main",
    "run_emulator",
]

JSON = dict[str, Any]

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
_TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_BOT_COMMAND_AT_START = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")


def _dumps(obj: Any) -> str:
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


class _HeldError(ApiError):
    """Answer to an injected "timeout" after the hold (already logged as held)."""


def _bad(reason: str) -> ApiError:
    return ApiError(400, "Bad Request: " + reason)


class ControlError(Exception):
    """An error of the control API (not a Telegram error)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Signal:
    """Edge-triggered broadcast: ``wait`` returns when ``notify`` is next called."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


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
        return _dumps(value)

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
                raise _bad(f"invalid {key} specified") from None

    def number(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {key} specified") from None

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
                raise _bad(error or f"can't parse {key} JSON object") from None
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


@dataclass(slots=True)
class _BotCtx:
    bot_id: int
    user: JSON


@dataclass(slots=True)
class _User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False

    def json(self) -> JSON:
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        if self.is_premium:
            out["is_premium"] = True
        return out


@dataclass(slots=True)
class _Msg:
    chat_id: int
    message_id: int
    data: JSON  # Bot API Message JSON; replaced (never mutated) on every change
    from_bot: bool
    thread_id: int | None = None
    markup: JSON | None = None  # any reply_markup given, including reply keyboards
    raw_text: str | None = None  # text/caption exactly as the bot sent it (with markup)
    parse_mode: str | None = None
    edit_count: int = 0
    deleted: bool = False
    seq: int = 0


@dataclass(slots=True)
class _Snapshot:
    """A message as it was at one moment (references only: ``data`` is never mutated)."""

    data: JSON
    from_bot: bool
    edit_count: int
    deleted: bool
    seq: int
    raw_text: str | None
    parse_mode: str | None
    markup: JSON | None

    @classmethod
    def of(cls, msg: _Msg) -> _Snapshot:
        return cls(
            msg.data,
            msg.from_bot,
            msg.edit_count,
            msg.deleted,
            msg.seq,
            msg.raw_text,
            msg.parse_mode,
            msg.markup,
        )

    def view(self) -> JSON:
        """Message JSON plus emulator bookkeeping (what the control API returns)."""
        view = dict(self.data)
        view["from_bot"] = self.from_bot
        view["edit_count"] = self.edit_count
        view["edited"] = self.edit_count > 0
        view["deleted"] = self.deleted
        view["seq"] = self.seq
        if self.raw_text is not None:
            view["raw_text"] = self.raw_text
            view["parse_mode"] = self.parse_mode
        if self.markup is not None:
            view["markup"] = self.markup
        return view


@dataclass(slots=True)
class _Event:
    seq: int
    kind: str  # message | edit | delete | answer
    chat_id: int
    message_id: int | None
    thread_id: int | None
    snapshot: _Snapshot | None
    extra: JSON | None = None

    def json(self) -> JSON:
        out: JSON = {
            "seq": self.seq,
            "kind": self.kind,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "message_thread_id": self.thread_id,
            "message": self.snapshot.view() if self.snapshot is not None else None,
        }
        if self.extra:
            out.update(self.extra)
        return out


@dataclass(slots=True)
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    admins: set[int] = field(default_factory=set)
    owner_id: int | None = None
    members: set[int] | None = None
    bot_is_admin: bool = False
    next_message_id: int = 1
    messages: dict[int, _Msg] = field(default_factory=dict)
    topics: dict[int, JSON] = field(default_factory=dict)
    closed_topics: set[int] = field(default_factory=set)
    events: list[_Event] = field(default_factory=list)
    signal: _Signal = field(default_factory=_Signal)
    rate: deque[float] = field(default_factory=deque)
    bot_messages: int = 0
    json_cache: tuple[tuple[Any, ...], JSON] | None = None
    user_messages: int = 0


@dataclass(slots=True)
class _File:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0
    photo_sizes: list[JSON] | None = None

    def info(self) -> JSON:
        out: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        out["file_size"] = len(self.data)
        return out


@dataclass(slots=True)
class _CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answer: JSON | None = None


@dataclass(slots=True)
class _FailRule:
    code: int  # HTTP status, or 0 for "timeout"
    remaining: int
    retry_after: int
    methods: frozenset[str] | None
    hold_seconds: float
    description: str | None


def _window_retry_after(window: deque[float], now: float, limit: float) -> int | None:
    """Sliding-window check; returns retry_after seconds when ``limit`` is exhausted."""
    if limit >= 1:
        count, span = int(limit), 1.0
    else:
        count, span = 1, 1.0 / limit
    horizon = now - span
    while window and window[0] <= horizon:
        window.popleft()
    if len(window) >= count:
        return max(1, math.ceil(window[0] + span - now))
    return None


def _image_size(data: bytes) -> tuple[int, int] | None:
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


class BotAPIEmulator:
    """All emulator state (users, chats, messages, files, updates) plus request handlers."""

    def __init__(
        self,
        *,
        bot_username: str = "birge_test_bot",
        bot_first_name: str = "Birge",
        rate_limit_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        hold_seconds: float = 10.0,
        callback_query_ttl: float | None = 15.0,
        call_log_size: int = 20_000,
    ) -> None:
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.rate_limit_per_second = rate_limit_per_second
        self.per_chat_per_second = per_chat_per_second
        self.hold_seconds = hold_seconds
        self.callback_query_ttl = callback_query_ttl
        self._bot_id = 0
        self._bot_user: tuple[tuple[int, str, str], JSON] = ((0, "", ""), {})
        self._closing = False
        self._update_id = 100_000
        self._seq = 0
        self._updates_signal = _Signal()
        self._global_signal = _Signal()
        self._shutdown_signal = _Signal()
        self._calls: deque[JSON] = deque(maxlen=call_log_size)
        self._reset_state()
        self._methods: dict[str, Callable[[_BotCtx, Params], Any]] = {
            "getme": self._m_get_me,
            "logout": self._m_true,
            "close": self._m_true,
            "setwebhook": self._m_set_webhook,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "setmycommands": self._m_set_my_commands,
            "getmycommands": self._m_get_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "sendmessage": self._m_send_message,
            "editmessagetext": self._m_edit_message_text,
            "editmessagecaption": self._m_edit_message_caption,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "deletemessages": self._m_delete_messages,
            "answercallbackquery": self._m_answer_callback_query,
            "senddocument": lambda ctx, p: self._send_media(ctx, p, "document"),
            "sendphoto": lambda ctx, p: self._send_media(ctx, p, "photo"),
            "sendvideo": lambda ctx, p: self._send_media(ctx, p, "video"),
            "sendaudio": lambda ctx, p: self._send_media(ctx, p, "audio"),
            "sendvoice": lambda ctx, p: self._send_media(ctx, p, "voice"),
            "sendanimation": lambda ctx, p: self._send_media(ctx, p, "animation"),
            "sendsticker": lambda ctx, p: self._send_media(ctx, p, "sticker"),
            "getfile": self._m_get_file,
            "createforumtopic": self._m_create_forum_topic,
            "editforumtopic": self._m_edit_forum_topic,
            "closeforumtopic": lambda ctx, p: self._m_toggle_topic(p, closed=True),
            "reopenforumtopic": lambda ctx, p: self._m_toggle_topic(p, closed=False),
            "sendchataction": self._m_send_chat_action,
            "getchat": self._m_get_chat,
            "getchatmember": self._m_get_chat_member,
        }

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        self._users: dict[int, _User] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _File] = {}
        self._files_by_path: dict[str, _File] = {}
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._updates: deque[tuple[int, str, JSON]] = deque()
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._events: list[_Event] = []
        self._fail_rules: list[_FailRule] = []
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._webhook: JSON = {"url": ""}
        self._global_window: deque[float] = deque()
        self._poller: object | None = None
        self._calls.clear()
        self._call_counts: dict[str, dict[int, int]] = {}
        self._counters: dict[str, int] = {
            "updates_total": 0,
            "updates_dropped": 0,
            "edits_total": 0,
            "deletes_total": 0,
            "callback_queries": 0,
            "callback_answers": 0,
            "rate_limited": 0,
            "injected_failures": 0,
        }
        self._file_counter = 0

    def rebind(self) -> None:
        """Recreate loop-bound primitives (call when serving from a new event loop)."""
        self._closing = False
        self._updates_signal = _Signal()
        self._global_signal = _Signal()
        self._shutdown_signal = _Signal()
        for chat in self._chats.values():
            chat.signal = _Signal()

    def close(self) -> None:
        """Wake every long poll / held request so the server can stop promptly."""
        self._closing = True
        self._updates_signal.notify()
        self._global_signal.notify()
        self._shutdown_signal.notify()
        for chat in self._chats.values():
            chat.signal.notify()

    def reset(self) -> None:
        """Forget users, chats, messages, files and logs; keep config and id counters."""
        chats = list(self._chats.values())
        self._reset_state()
        for chat in chats:
            chat.signal.notify()
        self._updates_signal.notify()
        self._global_signal.notify()

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def bot_id(self) -> int:
        return self._bot_id

    def bot_user(self) -> JSON:
        """The bot as a User (cached: shared by every message the bot sends; never mutate)."""
        key = (self._bot_id, self.bot_first_name, self.bot_username)
        if self._bot_user[0] != key:
            user: JSON = {"id": key[0], "is_bot": True, "first_name": key[1], "username": key[2]}
            self._bot_user = (key, user)
        return self._bot_user[1]

    def _ctx(self, bot_id: int) -> _BotCtx:
        if bot_id != self._bot_id:
            self._bot_id = bot_id
        return _BotCtx(bot_id, self.bot_user())

    def config(self) -> JSON:
        return {
            "rate_limit_per_second": self.rate_limit_per_second,
            "per_chat_per_second": self.per_chat_per_second,
            "bot_username": self.bot_username,
            "bot_first_name": self.bot_first_name,
            "hold_seconds": self.hold_seconds,
            "callback_query_ttl": self.callback_query_ttl,
        }

    def configure(self, changes: JSON) -> JSON:
        for key in ("rate_limit_per_second", "per_chat_per_second", "callback_query_ttl"):
            if key in changes:
                value = changes[key]
                setattr(self, key, float(value) if value not in (None, 0, "") else None)
        if changes.get("bot_username"):
            self.bot_username = str(changes["bot_username"]).lstrip("@")
        if changes.get("bot_first_name"):
            self.bot_first_name = str(changes["bot_first_name"])
        if changes.get("hold_seconds") is not None:
            self.hold_seconds = float(changes["hold_seconds"])
        return self.config()

    # ----------------------------------------------------------- people/chats

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
    ) -> JSON:
        user = self._users.get(user_id)
        if user is None:
            user = _User(user_id, first_name or f"User{user_id}")
            self._users[user_id] = user
        elif first_name:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name or None
        if username is not None:
            user.username = username.lstrip("@") or None
        if language_code is not None:
            user.language_code = language_code or None
        if is_premium is not None:
            user.is_premium = is_premium
        if user_id not in self._chats:
            self._chats[user_id] = _Chat(id=user_id, type="private")
        return user.json()

    def add_chat(
        self,
        chat_id: int,
        *,
        title: str,
        type: str = "supergroup",
        is_forum: bool = False,
        admins: Iterable[int] = (),
        bot_is_admin: bool = False,
        username: str | None = None,
        owner_id: int | None = None,
        members: Iterable[int] | None = None,
    ) -> JSON:
        if type not in ("group", "supergroup", "channel"):
            raise ControlError(400, "type must be group, supergroup or channel")
        if chat_id > 0:
            raise ControlError(400, "group chat ids must be negative")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(id=chat_id, type=type)
            self._chats[chat_id] = chat
        chat.type = type
        chat.title = title
        chat.is_forum = bool(is_forum) and type == "supergroup"
        chat.admins = set(admins)
        chat.bot_is_admin = bot_is_admin
        chat.username = username.lstrip("@") if username else None
        chat.owner_id = owner_id
        chat.members = set(members) if members is not None else None
        return self._chat_json(chat)

    def _chat_json(self, chat: _Chat) -> JSON:
        """The Chat object (cached per chat and shared by its messages; never mutate)."""
        if chat.type == "private":
            user = self._users[chat.id]
            key: tuple[Any, ...] = (user.first_name, user.last_name, user.username)
        else:
            key = (chat.type, chat.title, chat.username, chat.is_forum)
        if chat.json_cache is not None and chat.json_cache[0] == key:
            return chat.json_cache[1]
        if chat.type == "private":
            out: JSON = {"id": chat.id, "first_name": key[0]}
            if key[1]:
                out["last_name"] = key[1]
            if key[2]:
                out["username"] = key[2]
            out["type"] = "private"
        else:
            out = {"id": chat.id, "title": chat.title or "", "type": chat.type}
            if chat.username:
                out["username"] = chat.username
            if chat.is_forum:
                out["is_forum"] = True
        chat.json_cache = (key, out)
        return out

    def _chat_for(self, p: Params, key: str = "chat_id") -> _Chat:
        value = p.raw.get(key)
        if value is None or value == "":
            raise _bad(f"{key} is empty")
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for candidate in self._chats.values():
                if candidate.username and candidate.username.lower() == name:
                    return candidate
            raise _bad("chat not found")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        return chat

    # ------------------------------------------------------------- events/log

    def _view(self, msg: _Msg) -> JSON:
        return _Snapshot.of(msg).view()

    def _emit(self, chat: _Chat, kind: str, msg: _Msg | None, extra: JSON | None = None) -> None:
        self._seq += 1
        if msg is not None:
            msg.seq = self._seq
            event = _Event(
                self._seq, kind, chat.id, msg.message_id, msg.thread_id, _Snapshot.of(msg), extra
            )
        else:
            message_id = extra.get("message_id") if extra else None
            event = _Event(self._seq, kind, chat.id, message_id, None, None, extra)
        chat.events.append(event)
        self._events.append(event)
        chat.signal.notify()
        self._global_signal.notify()

    def _push_update(self, kind: str, payload: JSON) -> int | None:
        if kind not in self._allowed_updates:
            self._counters["updates_dropped"] += 1
            return None
        self._update_id += 1
        self._updates.append((self._update_id, kind, {"update_id": self._update_id, kind: payload}))
        self._counters["updates_total"] += 1
        self._updates_signal.notify()
        return self._update_id

    # ------------------------------------------------------------- Bot API I/O

    async def handle_bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        lname = method.lower()
        params = Params({}, {})
        try:
            match = _TOKEN_RE.match(request.match_info["token"])
            if match is None:
                raise ApiError(401, "Unauthorized")
            ctx = self._ctx(int(match.group(1)))
            params = await _read_params(request)
            if self._fail_rules:
                await self._maybe_fail(lname, method, params)
            if lname == "getupdates":
                result: Any = await self._m_get_updates(ctx, params)
            else:
                handler = self._methods.get(lname)
                if handler is None:
                    raise ApiError(404, "Not Found")
                result = handler(ctx, params)
            payload: JSON = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            payload = error.payload()
            status = error.code
            if isinstance(error, _HeldError):
                return web.json_response(payload, status=status)
        self._log_call(method, params, status, payload.get("description"))
        return web.Response(text=_dumps(payload), status=status, content_type="application/json")

    def _log_call(self, method: str, params: Params, status: int, description: str | None) -> None:
        counts = self._call_counts.get(method)
        if counts is None:
            counts = self._call_counts[method] = {}
        counts[status] = counts.get(status, 0) + 1
        self._calls.append(
            {
                "time": time.time(),
                "method": method,
                "params": params.summary(),
                "status": status,
                "ok": status == 200,
                "description": description,
            }
        )

    async def _maybe_fail(self, lname: str, method: str, params: Params) -> None:
        for rule in self._fail_rules:
            if rule.methods is None:
                if lname == "getupdates":
                    continue
            elif lname not in rule.methods:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._fail_rules.remove(rule)
            self._counters["injected_failures"] += 1
            if rule.code == 0:
                self._log_call(method, params, 0, "held (injected timeout)")
                deadline = time.monotonic() + rule.hold_seconds
                while not self._closing and (left := deadline - time.monotonic()) > 0:
                    await self._shutdown_signal.wait(left)
                raise _HeldError(504, rule.description or "Gateway Timeout")
            if rule.code == 429:
                raise ApiError(
                    429,
                    rule.description or f"Too Many Requests: retry after {rule.retry_after}",
                    retry_after=rule.retry_after,
                )
            raise ApiError(rule.code, rule.description or HTTP_REASONS.get(rule.code, "Error"))

    async def handle_file(self, request: web.Request) -> web.Response:
        if _TOKEN_RE.match(request.match_info["token"]) is None:
            raise web.HTTPUnauthorized(
                text=_dumps(ApiError(401, "Unauthorized").payload()),
                content_type="application/json",
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.Response(
                text=_dumps(ApiError(404, "Not Found").payload()),
                status=404,
                content_type="application/json",
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------ simple Bot methods

    def _m_true(self, ctx: _BotCtx, p: Params) -> bool:
        return True

    def _m_get_me(self, ctx: _BotCtx, p: Params) -> JSON:
        return {
            **ctx.user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_set_webhook(self, ctx: _BotCtx, p: Params) -> bool:
        url = p.string("url") or ""
        self._webhook = {"url": url}
        if p.has("allowed_updates"):
            self._set_allowed_updates(p.json("allowed_updates"))
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_delete_webhook(self, ctx: _BotCtx, p: Params) -> bool:
        self._webhook = {"url": ""}
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_get_webhook_info(self, ctx: _BotCtx, p: Params) -> JSON:
        info: JSON = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook["url"]:
            info["max_connections"] = 40
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _commands_key(self, p: Params) -> tuple[str, str]:
        scope = p.json("scope")
        scope_key = "default"
        if isinstance(scope, dict) and scope.get("type", "default") != "default":
            scope_key = _dumps({k: scope[k] for k in sorted(scope)})
        return scope_key, p.string("language_code") or ""

    def _m_set_my_commands(self, ctx: _BotCtx, p: Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        normalized: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand JSON object")
            command = str(item.get("command", "")).lstrip("/")
            description = str(item.get("description", ""))
            if not _COMMAND_RE.match(command):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad(
                    "command description is empty" if not description else "BOT_COMMAND_INVALID"
                )
            normalized.append({"command": command, "description": description})
        self._commands[self._commands_key(p)] = normalized
        return True

    def _m_get_my_commands(self, ctx: _BotCtx, p: Params) -> list[JSON]:
        return list(self._commands.get(self._commands_key(p), []))

    def _m_delete_my_commands(self, ctx: _BotCtx, p: Params) -> bool:
        self._commands.pop(self._commands_key(p), None)
        return True

    def _m_send_chat_action(self, ctx: _BotCtx, p: Params) -> bool:
        chat = self._chat_for(p)
        action = p.string("action") or ""
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._thread_for(chat, p)
        self._check_blocked(chat)
        return True

    def _m_get_chat(self, ctx: _BotCtx, p: Params) -> JSON:
        chat = self._chat_for(p)
        info = dict(self._chat_json(chat))
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    def _m_get_chat_member(self, ctx: _BotCtx, p: Params) -> JSON:
        chat = self._chat_for(p)
        user_id = p.integer("user_id")
        if user_id is None:
            raise _bad("user_id is empty")
        if user_id == ctx.bot_id:
            user = ctx.user
            admin = chat.type != "private" and chat.bot_is_admin
        else:
            known = self._users.get(user_id)
            if known is None:
                raise _bad("user not found")
            user = known.json()
            if chat.type == "private":
                if user_id != chat.id:
                    raise _bad("user not found")
                return {"status": "member", "user": user}
            if user_id == chat.owner_id:
                return {"status": "creator", "user": user, "is_anonymous": False}
            if (
                chat.members is not None
                and user_id not in chat.members
                and user_id not in chat.admins
            ):
                return {"status": "left", "user": user}
            admin = user_id in chat.admins
        if not admin:
            return {"status": "member", "user": user}
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
            "can_send_welcome_messages": True,
            "can_pin_messages": True,
            "can_manage_topics": True,
        }

    # --------------------------------------------------------------- updates

    def _set_allowed_updates(self, value: Any) -> None:
        if not isinstance(value, list):
            return
        allowed = frozenset(str(v) for v in value) if value else DEFAULT_UPDATE_TYPES
        self._allowed_updates = allowed
        if any(kind not in allowed for _, kind, _ in self._updates):
            kept = [item for item in self._updates if item[1] in allowed]
            self._counters["updates_dropped"] += len(self._updates) - len(kept)
            self._updates = deque(kept)

    async def _m_get_updates(self, ctx: _BotCtx, p: Params) -> list[JSON]:
        if self._webhook["url"]:
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
            self._set_allowed_updates(p.json("allowed_updates"))
        queue = self._updates
        if offset is not None and offset != 0:
            if offset > 0:
                while queue and queue[0][0] < offset:
                    queue.popleft()
            else:
                while len(queue) > -offset:
                    queue.popleft()
        token = object()
        if self._poller is not None:
            self._updates_signal.notify()  # wake the previous poller: it gets 409
        self._poller = token
        deadline = time.monotonic() + timeout
        while True:
            if self._poller is not token:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            queue = self._updates
            if queue:
                self._poller = None
                return [item[2] for _, item in zip(range(limit), queue, strict=False)]
            left = deadline - time.monotonic()
            if left <= 0 or self._closing:
                self._poller = None
                return []
            await self._updates_signal.wait(left)

    # -------------------------------------------------------------- messages

    def _thread_for(self, chat: _Chat, p: Params) -> int | None:
        thread_id = p.integer("message_thread_id")
        if not thread_id:
            return None
        if chat.is_forum:
            if thread_id not in chat.topics:
                raise _bad("message thread not found")
            if thread_id in chat.closed_topics:
                raise _bad("TOPIC_CLOSED")
            return thread_id
        if chat.type == "private" or thread_id not in chat.messages:
            raise _bad("message thread not found")
        return None

    def _reply_target(self, chat: _Chat, p: Params) -> _Msg | None:
        reply = p.json("reply_parameters", "can't parse reply parameters JSON object")
        allow = p.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply", allow))
        else:
            message_id = p.integer("reply_to_message_id")
        if not message_id:
            return None
        try:
            target = chat.messages.get(int(message_id))
        except (TypeError, ValueError):
            raise _bad("message to be replied not found") from None
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return target

    def _markup_for(self, p: Params) -> JSON | None:
        raw = p.raw.get("reply_markup")
        if raw is None or raw == "":
            return None
        markup = p.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of '
                    "Arrays"
                )
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
            normalized = [[{"text": b} if isinstance(b, str) else b for b in row] for row in rows]
            for row in normalized:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad(
                            "can't parse keyboard button: "
                            "KeyboardButton must be a String or an Object"
                        )
            return {**markup, "keyboard": normalized}
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if not isinstance(button.get("text"), str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise _bad("BUTTON_DATA_INVALID")
        elif "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not (
                url.startswith(("http://", "https://", "tg://", "ton://")) or "." in url
            ):
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        elif not any(key in button for key in INLINE_ACTIONS):
            raise _bad(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )

    @staticmethod
    def _format(
        p: Params, key: str, *, required: bool
    ) -> tuple[str | None, list[JSON] | None, str | None]:
        """Return (plain text, entities, raw text) for ``text``/``caption``."""
        raw = p.string(key)
        if raw is None or not raw.strip():
            if required:
                raise _bad("message text is empty")
            return None, None, None
        entities_key = "caption_entities" if key == "caption" else "entities"
        given = p.json(entities_key) if p.has(entities_key) else None
        parse_mode = None if isinstance(given, list) else p.string("parse_mode")
        try:
            plain, entities = parse_text(raw, parse_mode)
        except EntityParseError as error:
            raise _bad(f"can't parse entities: {error}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None
        if isinstance(given, list):
            entities = given
        if not plain.strip():
            if required:
                raise _bad("message text is empty")
            return None, None, raw
        if required and len(plain) > TEXT_LIMIT:
            raise _bad("message is too long")
        if not required and len(plain) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        return plain, entities or None, raw

    def _check_blocked(self, chat: _Chat) -> None:
        if chat.type == "private" and chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _check_rate(self, chat: _Chat) -> None:
        now = time.monotonic()
        limit = self.rate_limit_per_second
        if limit:
            retry = _window_retry_after(self._global_window, now, limit)
            if retry is not None:
                self._counters["rate_limited"] += 1
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        per_chat = self.per_chat_per_second
        if per_chat:
            retry = _window_retry_after(chat.rate, now, per_chat)
            if retry is not None:
                self._counters["rate_limited"] += 1
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
            chat.rate.append(now)
        if limit:
            self._global_window.append(now)

    def _reply_json(self, target: _Msg) -> JSON:
        data = dict(target.data)
        data.pop("reply_to_message", None)
        return data

    def _store_message(
        self,
        chat: _Chat,
        sender: JSON,
        content: JSON,
        *,
        from_bot: bool,
        thread_id: int | None,
        reply_to: _Msg | None,
        markup: JSON | None = None,
        raw_text: str | None = None,
        parse_mode: str | None = None,
    ) -> _Msg:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        data: JSON = {"message_id": message_id}
        if thread_id:
            data["message_thread_id"] = thread_id
        data["from"] = sender
        data["chat"] = self._chat_json(chat)
        data["date"] = int(time.time())
        if thread_id and chat.is_forum:
            data["is_topic_message"] = True
        if reply_to is not None:
            data["reply_to_message"] = self._reply_json(reply_to)
        elif thread_id and chat.is_forum and thread_id in chat.messages:
            data["reply_to_message"] = self._reply_json(chat.messages[thread_id])
        data.update(content)
        if markup is not None and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        msg = _Msg(chat.id, message_id, data, from_bot, thread_id, markup, raw_text, parse_mode)
        chat.messages[message_id] = msg
        if from_bot:
            chat.bot_messages += 1
        else:
            chat.user_messages += 1
        return msg

    def _bot_send(
        self,
        ctx: _BotCtx,
        chat: _Chat,
        p: Params,
        content: JSON,
        *,
        raw_text: str | None,
        markup: JSON | None,
    ) -> JSON:
        thread_id = self._thread_for(chat, p)
        reply_to = self._reply_target(chat, p)
        self._check_blocked(chat)
        self._check_rate(chat)
        msg = self._store_message(
            chat,
            ctx.user,
            content,
            from_bot=True,
            thread_id=thread_id,
            reply_to=reply_to,
            markup=markup,
            raw_text=raw_text,
            parse_mode=p.string("parse_mode") if raw_text is not None else None,
        )
        self._emit(chat, "message", msg)
        return msg.data

    def _m_send_message(self, ctx: _BotCtx, p: Params) -> JSON:
        text, entities, raw = self._format(p, "text", required=True)
        markup = self._markup_for(p)
        chat = self._chat_for(p)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._bot_send(ctx, chat, p, content, raw_text=raw, markup=markup)

    def _editable(self, p: Params, missing: str) -> tuple[_Chat, _Msg]:
        if p.has("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_for(p)
        message_id = p.integer("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise _bad(missing)
        return chat, msg

    def _apply_edit(
        self,
        chat: _Chat,
        msg: _Msg,
        changes: JSON,
        markup: JSON | None,
        raw: str | None,
        mode: str | None,
    ) -> JSON:
        data = dict(msg.data)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        if markup is None:
            data.pop("reply_markup", None)
        else:
            data["reply_markup"] = markup
        data["edit_date"] = int(time.time())
        msg.data = data
        msg.markup = markup
        if raw is not None:
            msg.raw_text = raw
            msg.parse_mode = mode
        msg.edit_count += 1
        self._counters["edits_total"] += 1
        self._emit(chat, "edit", msg)
        return data

    def _inline_markup(self, p: Params) -> JSON | None:
        markup = self._markup_for(p)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        return markup

    def _m_edit_message_text(self, ctx: _BotCtx, p: Params) -> JSON:
        text, entities, raw = self._format(p, "text", required=True)
        markup = self._inline_markup(p)
        chat, msg = self._editable(p, "message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        if "text" not in msg.data:
            raise _bad("there is no text in the message to edit")
        if (
            msg.data.get("text") == text
            and msg.data.get("entities") == entities
            and msg.data.get("reply_markup") == markup
        ):
            raise _bad(NOT_MODIFIED)
        self._check_rate(chat)
        return self._apply_edit(
            chat, msg, {"text": text, "entities": entities}, markup, raw, p.string("parse_mode")
        )

    def _m_edit_message_caption(self, ctx: _BotCtx, p: Params) -> JSON:
        caption, entities, raw = self._format(p, "caption", required=False)
        markup = self._inline_markup(p)
        chat, msg = self._editable(p, "message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        if "text" in msg.data:
            raise _bad("there is no caption in the message to edit")
        if (
            msg.data.get("caption") == caption
            and msg.data.get("caption_entities") == entities
            and msg.data.get("reply_markup") == markup
        ):
            raise _bad(NOT_MODIFIED)
        self._check_rate(chat)
        return self._apply_edit(
            chat,
            msg,
            {"caption": caption, "caption_entities": entities},
            markup,
            raw,
            p.string("parse_mode"),
        )

    def _m_edit_message_reply_markup(self, ctx: _BotCtx, p: Params) -> JSON:
        markup = self._inline_markup(p)
        chat, msg = self._editable(p, "message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        if msg.data.get("reply_markup") == markup:
            raise _bad(NOT_MODIFIED)
        self._check_rate(chat)
        return self._apply_edit(chat, msg, {}, markup, None, None)

    def _delete(self, chat: _Chat, msg: _Msg) -> None:
        if chat.type != "private" and not msg.from_bot and not chat.bot_is_admin:
            raise _bad("message can't be deleted")
        msg.deleted = True
        self._counters["deletes_total"] += 1
        self._emit(chat, "delete", msg)

    def _m_delete_message(self, ctx: _BotCtx, p: Params) -> bool:
        chat, msg = self._editable(p, "message to delete not found")
        self._delete(chat, msg)
        return True

    def _m_delete_messages(self, ctx: _BotCtx, p: Params) -> bool:
        chat = self._chat_for(p)
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids is empty")
        for message_id in ids:
            msg = chat.messages.get(int(message_id))
            if msg is not None and not msg.deleted:
                with suppress(ApiError):
                    self._delete(chat, msg)
        return True

    def _m_answer_callback_query(self, ctx: _BotCtx, p: Params) -> bool:
        query_id = p.string("callback_query_id") or ""
        query = self._callbacks.get(query_id)
        if query is None or query.answer is not None:
            raise _bad(QUERY_INVALID)
        ttl = self.callback_query_ttl
        if ttl and time.monotonic() - query.created > ttl:
            raise _bad(QUERY_INVALID)
        text = p.string("text")
        if text is not None and len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        answer: JSON = {
            "callback_query_id": query_id,
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.string("url"),
            "cache_time": p.integer("cache_time") or 0,
            "answered_at": time.time(),
        }
        query.answer = answer
        self._counters["callback_answers"] += 1
        chat = self._chats.get(query.chat_id)
        if chat is not None:
            msg = chat.messages.get(query.message_id)
            extra: JSON = {"callback_query_id": query_id, "answer": answer}
            if msg is None:
                extra["message_id"] = query.message_id
            self._emit(chat, "answer", msg, extra)
        return True

    # ----------------------------------------------------------------- files

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
        duration: int = 0,
    ) -> _File:
        self._file_counter += 1
        n = self._file_counter
        file_id = f"{FILE_ID_PREFIX.get(kind, 'BQACAgIAAxkBAA')}{n:05d}{secrets.token_urlsafe(18)}"
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
        stored = _File(
            file_id, unique_id, kind, data, path, file_name, mime_type, width, height, duration
        )
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def _store_photo(self, data: bytes, width: int, height: int) -> list[JSON]:
        sizes: list[tuple[int, int]] = []
        if max(width, height) > 320:
            scale = 90 / max(width, height)
            sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
        sizes.append((width, height))
        photo: list[JSON] = []
        for w, h in sizes:
            stored = self._store_file("photo", data, mime_type="image/jpeg", width=w, height=h)
            photo.append({**stored.info(), "width": w, "height": h})
        for item in photo:
            self._files[item["file_id"]].photo_sizes = photo
        return photo

    def _media_json(self, stored: _File) -> JSON | list[JSON]:
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

    def _input_file(self, p: Params, kind: str) -> _File | list[JSON]:
        upload = p.files.get(kind)
        if upload is None:
            value = p.string(kind)
            if not value:
                raise _bad(f"there is no {kind} in the request")
            if value.startswith("attach://"):
                upload = p.files.get(value[len("attach://") :])
                if upload is None:
                    raise _bad(f"there is no {kind} in the request")
            elif value.startswith(("http://", "https://")):
                raise _bad("failed to get HTTP URL content")
            else:
                existing = self._files.get(value)
                if existing is None:
                    raise _bad("wrong file identifier/HTTP URL specified")
                if existing.kind != kind:
                    raise _bad(f"can't use file of type {existing.kind.title()} as {kind.title()}")
                return existing
        if not upload.data:
            raise _bad("file must be non-empty")
        if len(upload.data) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo":
            size = _image_size(upload.data)
            if size is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            return self._store_photo(upload.data, *size)
        mime = mimetypes.guess_type(upload.filename or "")[0]
        if mime is None and upload.content_type not in (None, "application/octet-stream"):
            mime = upload.content_type
        if mime is None:
            mime = {"voice": "audio/ogg", "video": "video/mp4", "sticker": "image/webp"}.get(
                kind, "application/octet-stream"
            )
        return self._store_file(
            kind,
            upload.data,
            file_name=upload.filename if kind != "sticker" else None,
            mime_type=mime,
            width=p.integer("width") or 0,
            height=p.integer("height") or 0,
            duration=p.integer("duration") or 0,
        )

    def _send_media(self, ctx: _BotCtx, p: Params, kind: str) -> JSON:
        caption, entities, raw = (None, None, None)
        if kind != "sticker":
            caption, entities, raw = self._format(p, "caption", required=False)
        markup = self._markup_for(p)
        chat = self._chat_for(p)
        media = self._input_file(p, kind)
        content: JSON = {kind: media if isinstance(media, list) else self._media_json(media)}
        if caption is not None:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._bot_send(ctx, chat, p, content, raw_text=raw, markup=markup)

    def _m_get_file(self, ctx: _BotCtx, p: Params) -> JSON:
        stored = self._files.get(p.string("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise _bad("file is too big")
        return {**stored.info(), "file_path": stored.file_path}

    # ---------------------------------------------------------------- topics

    def _create_topic(
        self,
        chat: _Chat,
        sender: JSON,
        name: str,
        icon_color: int,
        emoji: str | None,
        *,
        from_bot: bool,
    ) -> tuple[JSON, _Msg]:
        created: JSON = {"name": name, "icon_color": icon_color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        thread_id = chat.next_message_id
        msg = self._store_message(
            chat,
            sender,
            {"forum_topic_created": created},
            from_bot=from_bot,
            thread_id=thread_id,
            reply_to=None,
        )
        topic = {"message_thread_id": thread_id, **created}
        chat.topics[thread_id] = topic
        return topic, msg

    def _m_create_forum_topic(self, ctx: _BotCtx, p: Params) -> JSON:
        chat = self._chat_for(p)
        if chat.type != "supergroup" or not chat.is_forum:
            raise _bad("the chat is not a forum")
        if not chat.bot_is_admin:
            raise _bad("not enough rights to create a topic")
        name = p.string("name") or ""
        if not name.strip():
            raise _bad("TOPIC_TITLE_EMPTY")
        if len(name) > 128:
            raise _bad("TOPIC_TITLE_INVALID")
        topic, msg = self._create_topic(
            chat,
            ctx.user,
            name,
            p.integer("icon_color") or DEFAULT_TOPIC_COLOR,
            p.string("icon_custom_emoji_id"),
            from_bot=True,
        )
        self._emit(chat, "message", msg)
        return topic

    def _topic_for(self, p: Params) -> tuple[_Chat, int]:
        chat = self._chat_for(p)
        if not chat.is_forum:
            raise _bad("the chat is not a forum")
        thread_id = p.integer("message_thread_id")
        if thread_id is None or thread_id not in chat.topics:
            raise _bad("message thread not found")
        return chat, thread_id

    def _m_edit_forum_topic(self, ctx: _BotCtx, p: Params) -> bool:
        chat, thread_id = self._topic_for(p)
        topic = chat.topics[thread_id]
        name = p.string("name")
        if name:
            topic["name"] = name
        if p.has("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = p.string("icon_custom_emoji_id")
        return True

    def _m_toggle_topic(self, p: Params, *, closed: bool) -> bool:
        chat, thread_id = self._topic_for(p)
        if closed:
            chat.closed_topics.add(thread_id)
        else:
            chat.closed_topics.discard(thread_id)
        return True

    # ----------------------------------------------------------- control API

    def _user(self, user_id: Any) -> _User:
        if user_id is None:
            raise ControlError(400, "user_id is required")
        uid = int(user_id)
        if uid not in self._users:
            self.add_user(uid)
        return self._users[uid]

    def _control_chat(self, user: _User, chat_id: Any) -> _Chat:
        cid = user.id if chat_id in (None, "") else int(chat_id)
        chat = self._chats.get(cid)
        if chat is None:
            raise ControlError(404, f"chat {cid} does not exist (create it via /control/chats)")
        return chat

    def _user_thread(self, chat: _Chat, thread_id: Any) -> int | None:
        if thread_id in (None, "", 0):
            return None
        tid = int(thread_id)
        if chat.is_forum and tid not in chat.topics:
            raise ControlError(404, f"topic {tid} does not exist in chat {chat.id}")
        return tid if chat.is_forum else None

    def _user_message(
        self, user: _User, chat: _Chat, content: JSON, thread_id: Any, reply_to_message_id: Any
    ) -> JSON:
        if chat.type == "private":
            self._blocked.discard(user.id)  # writing to a bot un-blocks it (Telegram "Restart")
        tid = self._user_thread(chat, thread_id)
        reply_to = None
        if reply_to_message_id not in (None, "", 0):
            reply_to = chat.messages.get(int(reply_to_message_id))
            if reply_to is None:
                raise ControlError(404, f"message {reply_to_message_id} not found")
        msg = self._store_message(
            chat, user.json(), content, from_bot=False, thread_id=tid, reply_to=reply_to
        )
        self._push_update("message", msg.data)
        return msg.data

    def control_send(self, body: JSON) -> JSON:
        user = self._user(body.get("user_id"))
        chat = self._control_chat(user, body.get("chat_id"))
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ControlError(400, "text must be a non-empty string")
        content: JSON = {"text": text}
        command = _BOT_COMMAND_AT_START.match(text)
        if command is not None:
            content["entities"] = [
                {"offset": 0, "length": len(command.group(0)), "type": "bot_command"}
            ]
        return self._user_message(
            user, chat, content, body.get("message_thread_id"), body.get("reply_to_message_id")
        )

    def control_upload(self, body: JSON) -> JSON:
        user = self._user(body.get("user_id"))
        chat = self._control_chat(user, body.get("chat_id"))
        kind = str(body.get("kind") or "document")
        content: JSON = {}
        raw_b64 = body.get("content_b64")
        data = base64.b64decode(raw_b64) if raw_b64 else None
        if kind == "location":
            content["location"] = {
                "latitude": float(body.get("latitude", 42.8746)),
                "longitude": float(body.get("longitude", 74.5698)),
            }
        elif kind == "contact":
            contact: JSON = {
                "phone_number": str(body.get("phone_number") or "+996700123456"),
                "first_name": str(body.get("first_name") or user.first_name),
            }
            if body.get("last_name") or (body.get("first_name") is None and user.last_name):
                contact["last_name"] = body.get("last_name") or user.last_name
            contact["user_id"] = int(body.get("contact_user_id") or user.id)
            content["contact"] = contact
        elif kind == "photo":
            blob = data if data is not None else TINY_PNG
            width, height = _image_size(blob) or (800, 600)
            content["photo"] = self._store_photo(blob, width, height)
        elif kind in ("document", "sticker", "voice", "video", "audio", "animation"):
            blob = data if data is not None else b"%s file from user %d" % (kind.encode(), user.id)
            file_name = body.get("filename")
            if kind == "document" and not file_name:
                file_name = "document.txt"
            mime = body.get("mime_type") or mimetypes.guess_type(str(file_name or ""))[0]
            if mime is None:
                mime = {"voice": "audio/ogg", "video": "video/mp4", "sticker": "image/webp"}.get(
                    kind, "application/octet-stream"
                )
            stored = self._store_file(
                kind,
                blob,
                file_name=str(file_name) if file_name else None,
                mime_type=str(mime),
                width=int(body.get("width") or 0),
                height=int(body.get("height") or 0),
                duration=int(body.get("duration") or 1),
            )
            media = self._media_json(stored)
            content[kind] = media
        else:
            raise ControlError(400, f"unsupported kind {kind!r}")
        caption = body.get("caption")
        if caption and kind not in ("location", "contact", "sticker"):
            content["caption"] = str(caption)
        return self._user_message(
            user, chat, content, body.get("message_thread_id"), body.get("reply_to_message_id")
        )

    def control_edit(self, body: JSON) -> JSON:
        user = self._user(body.get("user_id"))
        chat = self._control_chat(user, body.get("chat_id"))
        msg = chat.messages.get(int(body.get("message_id") or 0))
        if msg is None or msg.deleted:
            raise ControlError(404, "message not found")
        if msg.from_bot or msg.data.get("from", {}).get("id") != user.id:
            raise ControlError(403, "a person can only edit their own messages")
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ControlError(400, "text must be a non-empty string")
        data = dict(msg.data)
        data["text" if "text" in data or "caption" not in data else "caption"] = text
        data["edit_date"] = int(time.time())
        msg.data = data
        msg.edit_count += 1
        self._push_update("edited_message", data)
        return data

    def control_press(self, body: JSON) -> JSON:
        user = self._user(body.get("user_id"))
        chat = self._control_chat(user, body.get("chat_id"))
        button = body.get("button")
        data = body.get("callback_data")
        message_id = body.get("message_id")
        thread_id = body.get("message_thread_id")
        if button is None and data is None:
            raise ControlError(400, "give button (visible text or data) or callback_data")
        if message_id not in (None, "", 0):
            msg = chat.messages.get(int(message_id))
            if msg is None:
                raise ControlError(404, f"message {message_id} not found in chat {chat.id}")
            if button is not None:
                data = _find_button(msg, str(button))
                if data is None:
                    raise ControlError(404, f"message {message_id} has no button {button!r}")
        else:
            msg = None
            if button is not None:
                for candidate in reversed(chat.messages.values()):
                    if candidate.deleted or not candidate.from_bot:
                        continue
                    if thread_id and candidate.thread_id != int(thread_id):
                        continue
                    data = _find_button(candidate, str(button))
                    if data is not None:
                        msg = candidate
                        break
                if msg is None:
                    text = _find_reply_keyboard_button(chat, str(button))
                    if text is None:
                        raise ControlError(
                            404, f"no bot message in chat {chat.id} has button {button!r}"
                        )
                    sent = self.control_send(
                        {"user_id": user.id, "chat_id": chat.id, "text": text,
                         "message_thread_id": thread_id}
                    )  # fmt: skip
                    return {"type": "message", "message": sent}
            if msg is None:
                raise ControlError(400, "callback_data needs message_id")
        if msg.deleted:
            raise ControlError(409, f"message {msg.message_id} was deleted")
        present = _has_callback_data(msg, str(data))
        query_id = str(6_000_000_000_000_000_000 + self._counters["callback_queries"])
        self._counters["callback_queries"] += 1
        self._callbacks[query_id] = _CallbackQuery(
            query_id, user.id, chat.id, msg.message_id, str(data), time.monotonic()
        )
        self._push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.json(),
                "message": msg.data,
                "chat_instance": str(-(abs(chat.id) * 31 + 17)),
                "data": str(data),
            },
        )
        return {
            "type": "callback_query",
            "callback_query_id": query_id,
            "chat_id": chat.id,
            "message_id": msg.message_id,
            "data": str(data),
            "data_present": present,
        }

    def control_block(self, body: JSON) -> JSON:
        user = self._user(body.get("user_id"))
        blocked = bool(body.get("blocked", True))
        was_blocked = user.id in self._blocked
        if blocked:
            self._blocked.add(user.id)
        else:
            self._blocked.discard(user.id)
        if blocked != was_blocked and self._bot_id:
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            bot = self.bot_user()
            old_member: JSON = {"status": old, "user": bot}
            new_member: JSON = {"status": new, "user": bot}
            if old == "kicked":
                old_member["until_date"] = 0
            if new == "kicked":
                new_member["until_date"] = 0
            self._push_update(
                "my_chat_member",
                {
                    "chat": self._chat_json(self._chats[user.id]),
                    "from": user.json(),
                    "date": int(time.time()),
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                },
            )
        return {"user_id": user.id, "blocked": blocked}

    def control_topic(self, body: JSON) -> JSON:
        user = self._user(body.get("user_id"))
        chat = self._control_chat(user, body.get("chat_id"))
        if not chat.is_forum:
            raise ControlError(400, "the chat is not a forum")
        topic, msg = self._create_topic(
            chat,
            user.json(),
            str(body.get("name") or "Topic"),
            int(body.get("icon_color") or DEFAULT_TOPIC_COLOR),
            None,
            from_bot=False,
        )
        self._push_update("message", msg.data)
        return {"topic": topic, "message": msg.data}

    def control_fail(self, body: JSON) -> JSON:
        count = int(body.get("count", 1))
        kind = str(body.get("kind", "500"))
        methods = body.get("methods")
        if kind == "timeout":
            code = 0
        else:
            try:
                code = int(kind)
            except ValueError:
                raise ControlError(
                    400, "kind must be '429', '500', 'timeout' or an HTTP code"
                ) from None
        rule = _FailRule(
            code=code,
            remaining=count,
            retry_after=max(1, int(body.get("retry_after") or 1)),
            methods=frozenset(str(m).lower() for m in methods) if methods else None,
            hold_seconds=float(body.get("hold_seconds") or self.hold_seconds),
            description=body.get("description"),
        )
        if count > 0:
            self._fail_rules.append(rule)
        return {"pending_rules": len(self._fail_rules)}

    def control_answer(self, query_id: str) -> JSON | None:
        query = self._callbacks.get(query_id)
        if query is None:
            raise ControlError(404, f"unknown callback_query_id {query_id}")
        return query.answer

    def transcript(
        self, chat_id: int, thread_id: int | None = None, include_deleted: bool = True
    ) -> list[JSON]:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"chat {chat_id} does not exist")
        return [
            self._view(msg)
            for msg in chat.messages.values()
            if (include_deleted or not msg.deleted)
            and (thread_id is None or msg.thread_id == thread_id)
        ]

    async def wait_events(
        self,
        *,
        chat_id: int | None = None,
        after_seq: int = 0,
        after_message_id: int | None = None,
        count: int = 1,
        timeout: float = 5.0,
        settle: float = 0.0,
        kinds: frozenset[str] | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """Wait until ``count`` bot-side events match; see ``/control/wait``."""
        if chat_id is not None:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise ControlError(404, f"chat {chat_id} does not exist")
        if after_message_id is not None and kinds is None:
            kinds = frozenset({"message"})

        def collect() -> list[_Event]:
            current = self._chats.get(chat_id) if chat_id is not None else None
            events = current.events if current is not None else self._events
            if chat_id is not None and current is None:
                return []
            start = bisect.bisect_right(events, after_seq, key=lambda e: e.seq)
            return [
                e
                for e in events[start:]
                if (kinds is None or e.kind in kinds)
                and (thread_id is None or e.thread_id == thread_id)
                and (after_message_id is None or (e.message_id or 0) > after_message_id)
            ]

        def signal() -> _Signal:
            current = self._chats.get(chat_id) if chat_id is not None else None
            return current.signal if current is not None else self._global_signal

        deadline = time.monotonic() + max(0.0, min(timeout, 300.0))
        found = collect()
        while len(found) < count and not self._closing:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await signal().wait(left)
            found = collect()
        if found and settle > 0 and not self._closing:
            while True:
                left = min(settle, deadline - time.monotonic())
                if left <= 0 or not await signal().wait(left):
                    break
            found = collect()
        return {
            "events": [e.json() for e in found],
            "seq": self._seq,
            "timed_out": len(found) < count,
        }

    async def wait_answer(self, query_id: str, timeout: float) -> JSON | None:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.control_answer(query_id)
            left = deadline - time.monotonic()
            if answer is not None or left <= 0 or self._closing:
                return answer
            chat = self._chats.get(self._callbacks[query_id].chat_id)
            await (chat.signal if chat is not None else self._global_signal).wait(left)

    def calls(self, method: str | None = None, limit: int | None = None) -> list[JSON]:
        wanted = method.lower() if method else None
        items = [c for c in self._calls if wanted is None or c["method"].lower() == wanted]
        return items[-limit:] if limit else items

    def stats(self) -> JSON:
        calls: dict[str, dict[str, int]] = {
            method: {str(status): n for status, n in counts.items()}
            for method, counts in self._call_counts.items()
        }
        bot_messages = {str(c.id): c.bot_messages for c in self._chats.values() if c.bot_messages}
        user_messages = {
            str(c.id): c.user_messages for c in self._chats.values() if c.user_messages
        }
        return {
            "seq": self._seq,
            "next_update_id": self._update_id + 1,
            "pending_updates": len(self._updates),
            "bot_messages": bot_messages,
            "user_messages": user_messages,
            "bot_messages_total": sum(bot_messages.values()),
            "user_messages_total": sum(user_messages.values()),
            "users": len(self._users),
            "chats": len(self._chats),
            "files": len(self._files),
            "calls_total": sum(sum(c.values()) for c in self._call_counts.values()),
            "calls": calls,
            "responses_429": sum(c.get(429, 0) for c in self._call_counts.values()),
            **self._counters,
        }

    def commands(self) -> list[JSON]:
        return [
            {"scope": scope, "language_code": lang, "commands": cmds}
            for (scope, lang), cmds in self._commands.items()
        ]

    def pending_updates(self) -> list[JSON]:
        return [item[2] for item in self._updates]

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._files.get(file_id)
        if stored is None:
            raise ControlError(404, f"unknown file_id {file_id}")
        return stored.data

    # Read-only views used by the sandbox's chat page (bot/sandbox/server.py).

    def file_meta(self, file_id: str) -> tuple[bytes, str | None, str | None]:
        """(bytes, MIME type, file name) of a stored file."""
        stored = self._files.get(file_id)
        if stored is None:
            raise ControlError(404, f"unknown file_id {file_id}")
        return stored.data, stored.mime_type, stored.file_name

    def chat_view(self, chat_id: int) -> JSON:
        """A chat as the Bot API shows it, plus the forum topics it has (oldest first)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"chat {chat_id} does not exist")
        topics = [
            {**topic, "closed": thread_id in chat.closed_topics}
            for thread_id, topic in sorted(chat.topics.items())
        ]
        return {**self._chat_json(chat), "topics": topics}


def _buttons(msg: _Msg) -> Iterable[JSON]:
    markup = msg.data.get("reply_markup") or {}
    for row in markup.get("inline_keyboard") or []:
        yield from row


def _find_button(msg: _Msg, wanted: str) -> str | None:
    """Callback data of the button whose text (or else callback_data) equals ``wanted``."""
    buttons = list(_buttons(msg))
    for button in buttons:
        if button.get("text") == wanted and "callback_data" in button:
            return str(button["callback_data"])
    for button in buttons:
        if button.get("callback_data") == wanted:
            return wanted
    return None


def _has_callback_data(msg: _Msg, data: str) -> bool:
    return any(button.get("callback_data") == data for button in _buttons(msg))


def _find_reply_keyboard_button(chat: _Chat, wanted: str) -> str | None:
    """Text of a button on the chat's current reply keyboard (latest bot keyboard markup)."""
    for msg in reversed(chat.messages.values()):
        if not msg.from_bot or msg.markup is None:
            continue
        if msg.markup.get("remove_keyboard"):
            return None
        rows = msg.markup.get("keyboard")
        if rows is None:
            continue
        for row in rows:
            for button in row:
                if button.get("text") == wanted:
                    return wanted
        return None
    return None


_BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_DISPOSITION_PARAM_RE = re.compile(
    r'(?<![\w-])(name|filename)(\*?)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.IGNORECASE
)


def _parse_multipart(body: bytes, boundary: bytes, raw: JSON, files: dict[str, Upload]) -> bool:
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
                for m in _DISPOSITION_PARAM_RE.finditer(value):
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


async def _read_params(request: web.Request) -> Params:
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
                    raise _bad("can't parse JSON encoded request") from None
                if isinstance(body, dict):
                    raw.update(body)
            elif content_type == "multipart/form-data":
                match = _BOUNDARY_RE.search(header)
                data = await request.read()
                boundary = (match.group(1) or match.group(2)).encode() if match else b""
                if not boundary or not _parse_multipart(data, boundary, raw, files):
                    raise _bad("can't parse multipart/form-data request")
            elif content_type == "application/x-www-form-urlencoded":
                data = await request.read()
                for key, value in urllib.parse.parse_qsl(
                    data.decode("utf-8", "replace"), keep_blank_values=True
                ):
                    raw[key] = value
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
    return Params(raw, files)


# ------------------------------------------------------------------ control HTTP


def _q_int(query: JSON, key: str, default: int | None = None) -> int | None:
    value = query.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{key} must be an integer") from None


def _q_float(query: JSON, key: str, default: float) -> float:
    value = query.get(key)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{key} must be a number") from None


ControlHandler = Callable[[JSON], Awaitable[Any]]
EMULATOR_KEY = web.AppKey("emulator", BotAPIEmulator)


def _control_routes(emu: BotAPIEmulator) -> dict[str, ControlHandler]:
    async def users(body: JSON) -> Any:
        if "id" not in body:
            raise ControlError(400, "id is required")
        return emu.add_user(
            int(body["id"]),
            body.get("first_name"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code"),
            is_premium=body.get("is_premium"),
        )

    async def chats(body: JSON) -> Any:
        if "id" not in body:
            raise ControlError(400, "id is required")
        return emu.add_chat(
            int(body["id"]),
            title=str(body.get("title") or "Group"),
            type=str(body.get("type") or "supergroup"),
            is_forum=bool(body.get("is_forum", False)),
            admins=[int(a) for a in body.get("admins") or []],
            bot_is_admin=bool(body.get("bot_is_admin", False)),
            username=body.get("username"),
            owner_id=_q_int(body, "owner_id"),
            members=[int(m) for m in body["members"]] if body.get("members") is not None else None,
        )

    async def send(body: JSON) -> Any:
        return emu.control_send(body)

    async def press(body: JSON) -> Any:
        return emu.control_press(body)

    async def upload(body: JSON) -> Any:
        return emu.control_upload(body)

    async def edit(body: JSON) -> Any:
        return emu.control_edit(body)

    async def block(body: JSON) -> Any:
        return emu.control_block(body)

    async def topic(body: JSON) -> Any:
        return emu.control_topic(body)

    async def fail(body: JSON) -> Any:
        return emu.control_fail(body)

    async def config(body: JSON) -> Any:
        return emu.configure(body)

    async def reset(body: JSON) -> Any:
        emu.reset()
        return True

    async def answer(body: JSON) -> Any:
        query_id = str(body.get("callback_query_id") or "")
        timeout = _q_float(body, "timeout", 0.0)
        if timeout > 0:
            emu.control_answer(query_id)  # 404 for unknown ids
            return await emu.wait_answer(query_id, min(timeout, 300.0))
        return emu.control_answer(query_id)

    async def transcript(body: JSON) -> Any:
        chat_id = _q_int(body, "chat_id")
        if chat_id is None:
            raise ControlError(400, "chat_id is required")
        include_deleted = str(body.get("include_deleted", "1")).lower() not in ("0", "false", "no")
        return emu.transcript(chat_id, _q_int(body, "message_thread_id"), include_deleted)

    async def wait(body: JSON) -> Any:
        kinds_raw = body.get("kinds")
        if isinstance(kinds_raw, str):
            kinds_raw = [k for k in kinds_raw.split(",") if k]
        kinds = frozenset(str(k) for k in kinds_raw) if kinds_raw else None
        return await emu.wait_events(
            chat_id=_q_int(body, "chat_id"),
            after_seq=_q_int(body, "after_seq", 0) or 0,
            after_message_id=_q_int(body, "after"),
            count=_q_int(body, "count", 1) or 1,
            timeout=_q_float(body, "timeout", 5.0),
            settle=_q_float(body, "settle_ms", 0.0) / 1000.0,
            kinds=kinds,
            thread_id=_q_int(body, "message_thread_id"),
        )

    async def calls(body: JSON) -> Any:
        return emu.calls(body.get("method") or None, _q_int(body, "limit"))

    async def stats(body: JSON) -> Any:
        return emu.stats()

    async def commands(body: JSON) -> Any:
        return emu.commands()

    async def updates(body: JSON) -> Any:
        return emu.pending_updates()

    async def seq(body: JSON) -> Any:
        return emu.seq

    return {
        "users": users,
        "chats": chats,
        "send": send,
        "press": press,
        "upload": upload,
        "edit": edit,
        "block": block,
        "topic": topic,
        "fail": fail,
        "config": config,
        "reset": reset,
        "answer": answer,
        "transcript": transcript,
        "wait": wait,
        "calls": calls,
        "stats": stats,
        "commands": commands,
        "updates": updates,
        "seq": seq,
    }


def create_app(emulator: BotAPIEmulator | None = None) -> web.Application:
    """Build the aiohttp application serving the Bot API and the control API."""
    emu = emulator if emulator is not None else BotAPIEmulator()
    app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
    routes = _control_routes(emu)

    async def control(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        handler = routes.get(name)
        if handler is None:
            return web.json_response(
                {"ok": False, "error": f"unknown control endpoint {name}"}, status=404
            )
        body: JSON = dict(request.query)
        if request.method == "POST" and request.body_exists:
            try:
                data = await request.json()
            except ValueError:
                return web.json_response({"ok": False, "error": "body must be JSON"}, status=400)
            if isinstance(data, dict):
                body.update(data)
        try:
            result = await handler(body)
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        except (TypeError, ValueError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.Response(
            text=_dumps({"ok": True, "result": result, "seq": emu.seq}),
            content_type="application/json",
        )

    async def control_file(request: web.Request) -> web.Response:
        try:
            data = emu.file_bytes(request.query.get("file_id", ""))
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        return web.Response(body=data, content_type="application/octet-stream")

    async def on_startup(app: web.Application) -> None:
        emu.rebind()

    async def on_shutdown(app: web.Application) -> None:
        emu.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.router.add_route("GET", "/control/file", control_file)
    app.router.add_route("*", "/control/{name}", control)
    app.router.add_route("*", "/bot{token}/{method}", emu.handle_bot_api)
    app.router.add_route("GET", "/file/bot{token}/{path:.+}", emu.handle_file)
    app[EMULATOR_KEY] = emu
    return app


class EmulatorServer:
    """Serve a ``BotAPIEmulator`` on ``host:port`` (port 0 = a random free port)."""

    def __init__(
        self,
        emulator: BotAPIEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.emulator = emulator if emulator is not None else BotAPIEmulator()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        runner = web.AppRunner(
            create_app(self.emulator),
            handler_cancellation=True,  # a client that gives up cancels its held request
            shutdown_timeout=1.0,
            access_log=None,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            self.emulator.close()
            await runner.cleanup()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@asynccontextmanager
async def run_emulator(
    emulator: BotAPIEmulator | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """``async with run_emulator(emu) as url:`` — serve and yield the base URL."""
    server = EmulatorServer(emulator, host=host, port=port)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Telegram Bot API emulator for Birge")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="birge_test_bot")
    parser.add_argument("--rate-limit", type=float, default=None, help="messages per second")
    parser.add_argument("--per-chat", type=float, default=None, help="messages per second per chat")
    args = parser.parse_args(argv)
    emulator = BotAPIEmulator(
        bot_username=args.bot_username,
        rate_limit_per_second=args.rate_limit,
        per_chat_per_second=args.per_chat,
    )
    print(f"Bot API emulator on http://{args.host}:{args.port}", flush=True)
    web.run_app(
        create_app(emulator),
        host=args.host,
        port=args.port,
        handler_cancellation=True,
        shutdown_timeout=1.0,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
