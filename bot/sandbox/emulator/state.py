"""The emulator's state: users, chats, messages, files, forum topics, updates and events.

``EmulatorState`` holds all of it plus the few operations every area needs (store a message,
emit an event for the control API's waiters, queue an update for the bot). It knows nothing of
HTTP or of particular Bot API methods: those live in ``methods/`` and take the state as their
first argument.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.protocol import (
    ADMITTED,
    DEFAULT_UPDATE_TYPES,
    JSON,
    ControlError,
    Params,
    bad,
)


class Signal:
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
class BotCtx:
    bot_id: int
    user: JSON


@dataclass(slots=True)
class User:
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
class Msg:
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
class Snapshot:
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
    def of(cls, msg: Msg) -> Snapshot:
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
class Event:
    seq: int
    kind: str  # message | edit | delete | answer
    chat_id: int
    message_id: int | None
    thread_id: int | None
    snapshot: Snapshot | None
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
class Chat:
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
    messages: dict[int, Msg] = field(default_factory=dict)
    topics: dict[int, JSON] = field(default_factory=dict)
    closed_topics: set[int] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)
    signal: Signal = field(default_factory=Signal)
    rate: deque[float] = field(default_factory=deque)
    bot_messages: int = 0
    json_cache: tuple[tuple[Any, ...], JSON] | None = None
    user_messages: int = 0


@dataclass(slots=True)
class File:
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
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answer: JSON | None = None


@dataclass(slots=True)
class FailRule:
    code: int  # HTTP status, or 0 for "timeout"
    remaining: int
    retry_after: int
    methods: frozenset[str] | None
    hold_seconds: float
    description: str | None
    chat_id: int | None = None  # only calls to this chat (None: any)


class EmulatorState:
    """All emulator state (users, chats, messages, files, updates) and the shared operations."""

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
        # A load balancer's stand-in: webhook deliveries spread over these URLs (methods/webhooks).
        self.webhook_backends: list[str] = []
        self._bot_id = 0
        self._bot_user: tuple[tuple[int, str, str], JSON] = ((0, "", ""), {})
        self._closing = False
        self._update_id = 100_000
        self._seq = 0
        self._updates_signal = Signal()
        self._global_signal = Signal()
        self._shutdown_signal = Signal()
        self._calls: deque[JSON] = deque(maxlen=call_log_size)
        self._reset_state()

    def _reset_state(self) -> None:
        self._users: dict[int, User] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, Chat] = {}
        self._files: dict[str, File] = {}
        self._files_by_path: dict[str, File] = {}
        self._callbacks: dict[str, CallbackQuery] = {}
        self._updates: deque[tuple[int, str, JSON]] = deque()
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._events: list[Event] = []
        self._fail_rules: list[FailRule] = []
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
            "rate_limited_bot": 0,
            "rate_limited_chat": 0,
            "injected_failures": 0,
        }
        self._file_counter = 0

    def rebind(self) -> None:
        """Recreate loop-bound primitives (call when serving from a new event loop)."""
        self._closing = False
        self._updates_signal = Signal()
        self._global_signal = Signal()
        self._shutdown_signal = Signal()
        for chat in self._chats.values():
            chat.signal = Signal()

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

    def _ctx(self, bot_id: int) -> BotCtx:
        if bot_id != self._bot_id:
            self._bot_id = bot_id
        return BotCtx(bot_id, self.bot_user())

    def config(self) -> JSON:
        return {
            "rate_limit_per_second": self.rate_limit_per_second,
            "per_chat_per_second": self.per_chat_per_second,
            "bot_username": self.bot_username,
            "bot_first_name": self.bot_first_name,
            "hold_seconds": self.hold_seconds,
            "callback_query_ttl": self.callback_query_ttl,
            "webhook_backends": list(self.webhook_backends),
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
        if isinstance(changes.get("webhook_backends"), list):
            self.webhook_backends = [str(u).rstrip("/") for u in changes["webhook_backends"]]
        return self.config()

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
            user = User(user_id, first_name or f"User{user_id}")
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
            self._chats[user_id] = Chat(id=user_id, type="private")
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
            chat = Chat(id=chat_id, type=type)
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

    def _chat_json(self, chat: Chat) -> JSON:
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

    def _chat_for(self, p: Params, key: str = "chat_id") -> Chat:
        value = p.raw.get(key)
        if value is None or value == "":
            raise bad(f"{key} is empty")
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for candidate in self._chats.values():
                if candidate.username and candidate.username.lower() == name:
                    return candidate
            raise bad("chat not found")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad("chat not found")
        return chat

    def _view(self, msg: Msg) -> JSON:
        return Snapshot.of(msg).view()

    def _emit(self, chat: Chat, kind: str, msg: Msg | None, extra: JSON | None = None) -> None:
        self._seq += 1
        if msg is not None:
            msg.seq = self._seq
            event = Event(
                self._seq, kind, chat.id, msg.message_id, msg.thread_id, Snapshot.of(msg), extra
            )
        else:
            message_id = extra.get("message_id") if extra else None
            event = Event(self._seq, kind, chat.id, message_id, None, None, extra)
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

    def _reply_json(self, target: Msg) -> JSON:
        data = dict(target.data)
        data.pop("reply_to_message", None)
        return data

    def _store_message(
        self,
        chat: Chat,
        sender: JSON,
        content: JSON,
        *,
        from_bot: bool,
        thread_id: int | None,
        reply_to: Msg | None,
        markup: JSON | None = None,
        raw_text: str | None = None,
        parse_mode: str | None = None,
    ) -> Msg:
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
        msg = Msg(chat.id, message_id, data, from_bot, thread_id, markup, raw_text, parse_mode)
        chat.messages[message_id] = msg
        if from_bot:
            chat.bot_messages += 1
        else:
            chat.user_messages += 1
        return msg

    def _log_call(self, method: str, params: Params, status: int, description: str | None) -> None:
        counts = self._call_counts.get(method)
        if counts is None:
            counts = self._call_counts[method] = {}
        counts[status] = counts.get(status, 0) + 1
        admitted = ADMITTED.get()
        self._calls.append(
            {
                "time": time.time() if admitted is None else admitted,
                "method": method,
                "params": params.summary(),
                "status": status,
                "ok": status == 200,
                "description": description,
            }
        )
