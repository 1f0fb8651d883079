"""Async client for the Bot API emulator's control API, plus a ``Person`` helper.

Why this exists: tests and benchmarks should read like a conversation ("Aida sends /start,
presses «Да», gets two replies") instead of raw HTTP calls. ``EmulatorClient`` wraps every
``/control/`` endpoint of ``bot.sandbox.emulator``; ``Person`` adds a per-user cursor so
``await person.replies()`` returns exactly the bot output that followed that person's last
action, without sleeps.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import aiohttp

__all__ = ["EmulatorClient", "EmulatorError", "Person"]

JSON = dict[str, Any]


class EmulatorError(RuntimeError):
    """The control API refused a request (bad input, unknown chat/message, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _clean(body: JSON) -> JSON:
    return {k: v for k, v in body.items() if v is not None}


class EmulatorClient:
    """Thin typed wrapper over ``/control/*``; every call returns the ``result`` field."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None
        self.last_seq = 0

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
            self._own_session = True
        return self._session

    async def call(self, endpoint: str, body: JSON | None = None, *, get: bool = False) -> Any:
        """Call ``/control/{endpoint}``; GET passes ``body`` as the query string."""
        url = f"{self.base_url}/control/{endpoint}"
        http = self._http()
        if get:
            params = {k: str(v) for k, v in _clean(body or {}).items()}
            response = await http.get(url, params=params)
        else:
            response = await http.post(url, json=_clean(body or {}))
        async with response:
            payload = await response.json(content_type=None)
        if not payload.get("ok"):
            raise EmulatorError(response.status, str(payload.get("error")))
        self.last_seq = int(payload.get("seq", self.last_seq))
        return payload["result"]

    # ----------------------------------------------------------- world setup

    async def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        body = {"id": user_id, "first_name": first_name, "last_name": last_name}
        body.update(username=username, language_code=language_code)
        result: JSON = await self.call("users", body)
        return result

    async def add_chat(
        self,
        chat_id: int,
        title: str,
        *,
        type: str = "supergroup",
        is_forum: bool = False,
        admins: Iterable[int] = (),
        bot_is_admin: bool = True,
        username: str | None = None,
        owner_id: int | None = None,
        members: Iterable[int] | None = None,
    ) -> JSON:
        body: JSON = {"id": chat_id, "title": title, "type": type, "is_forum": is_forum}
        body.update(admins=list(admins), bot_is_admin=bot_is_admin, username=username)
        body.update(owner_id=owner_id, members=list(members) if members is not None else None)
        result: JSON = await self.call("chats", body)
        return result

    async def create_topic(self, user_id: int, chat_id: int, name: str) -> JSON:
        """A person creates a forum topic; returns {"topic": ForumTopic, "message": Message}."""
        body = {"user_id": user_id, "chat_id": chat_id, "name": name}
        result: JSON = await self.call("topic", body)
        return result

    def person(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "ru",
        username: str | None = None,
        *,
        last_name: str | None = None,
    ) -> Person:
        """A helper acting as this user; registered lazily on its first action."""
        return Person(self, user_id, first_name, language_code, username, last_name=last_name)

    # ------------------------------------------------------- acting as people

    async def send(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        body = {"user_id": user_id, "text": text, "chat_id": chat_id}
        body.update(message_thread_id=message_thread_id, reply_to_message_id=reply_to_message_id)
        result: JSON = await self.call("send", body)
        return result

    async def press(
        self,
        user_id: int,
        *,
        button: str | None = None,
        message_id: int | None = None,
        callback_data: str | None = None,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> JSON:
        """Press a button; result has type "callback_query" (with callback_query_id and
        data_present) or "message" when a reply-keyboard button sent its text."""
        body = {"user_id": user_id, "button": button, "message_id": message_id}
        body.update(callback_data=callback_data, chat_id=chat_id)
        body.update(message_thread_id=message_thread_id)
        result: JSON = await self.call("press", body)
        return result

    async def vote(self, user_id: int, option_ids: list[int], *, chat_id: int | None = None,
                   message_id: int | None = None) -> JSON:
        """A person votes in a native poll (the newest in the chat unless ``message_id``)."""
        result: JSON = await self.call("vote", {"user_id": user_id, "chat_id": chat_id,
                                                "message_id": message_id,
                                                "option_ids": option_ids})
        return result

    async def answer(self, callback_query_id: str, timeout: float = 0.0) -> JSON | None:
        """What answerCallbackQuery said (None if not yet); waits up to ``timeout``."""
        body = {"callback_query_id": callback_query_id, "timeout": timeout or None}
        result: JSON | None = await self.call("answer", body, get=True)
        return result

    async def upload(
        self,
        user_id: int,
        kind: str,
        content: bytes | None = None,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        **extra: Any,
    ) -> JSON:
        """Send media as the user: document, photo, sticker, voice, video, location, contact.

        ``extra`` carries kind-specific fields (latitude/longitude, phone_number, ...)."""
        body: JSON = {"user_id": user_id, "kind": kind, "filename": filename}
        body.update(mime_type=mime_type, caption=caption, chat_id=chat_id)
        body.update(message_thread_id=message_thread_id, **extra)
        if content is not None:
            body["content_b64"] = base64.b64encode(content).decode("ascii")
        result: JSON = await self.call("upload", body)
        return result

    async def edit(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> JSON:
        body = {"user_id": user_id, "message_id": message_id, "text": text, "chat_id": chat_id}
        result: JSON = await self.call("edit", body)
        return result

    async def block(self, user_id: int, blocked: bool = True) -> JSON:
        result: JSON = await self.call("block", {"user_id": user_id, "blocked": blocked})
        return result

    # ----------------------------------------------------- faults and config

    async def fail(
        self,
        count: int = 1,
        kind: str = "500",
        *,
        retry_after: int | None = None,
        methods: Sequence[str] | None = None,
        hold_seconds: float | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        """Make the next ``count`` Bot API calls fail ("429", "500", any code, "timeout"),
        only calls to ``chat_id`` when it is given.

        Without ``methods`` getUpdates is never failed (so a polling bot does not eat the
        injected failures); list "getUpdates" explicitly to fail it."""
        body: JSON = {"count": count, "kind": kind, "retry_after": retry_after}
        body.update(methods=list(methods) if methods else None, hold_seconds=hold_seconds)
        body.update(description=description, chat_id=chat_id)
        result: JSON = await self.call("fail", body)
        return result

    async def config(
        self,
        *,
        rate_limit_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        bot_username: str | None = None,
        hold_seconds: float | None = None,
        callback_query_ttl: float | None = None,
        webhook_backends: list[str] | None = None,
    ) -> JSON:
        """Change limits; pass 0 to switch a limit off (None leaves it unchanged).
        `webhook_backends`: spread webhook deliveries over these URLs (a load balancer)."""
        body: JSON = {
            "rate_limit_per_second": rate_limit_per_second,
            "per_chat_per_second": per_chat_per_second,
            "bot_username": bot_username,
            "hold_seconds": hold_seconds,
            "callback_query_ttl": callback_query_ttl,
            "webhook_backends": webhook_backends,
        }
        result: JSON = await self.call("config", body)
        return result

    async def reset(self) -> None:
        await self.call("reset")

    # -------------------------------------------------------------- observe

    async def transcript(
        self, chat_id: int, message_thread_id: int | None = None, *, include_deleted: bool = True
    ) -> list[JSON]:
        body = {"chat_id": chat_id, "message_thread_id": message_thread_id}
        body["include_deleted"] = int(include_deleted)
        result: list[JSON] = await self.call("transcript", body, get=True)
        return result

    async def wait(
        self,
        chat_id: int | None = None,
        *,
        after_seq: int = 0,
        after_message_id: int | None = None,
        count: int = 1,
        timeout: float = 5.0,
        settle_ms: int = 0,
        kinds: Iterable[str] | None = None,
        message_thread_id: int | None = None,
    ) -> JSON:
        """Long-poll for bot-side events (message/edit/delete/answer) after ``after_seq``.

        Returns {"events": [...], "seq": N, "timed_out": bool}."""
        body: JSON = {"chat_id": chat_id, "after_seq": after_seq, "after": after_message_id}
        body.update(count=count, timeout=timeout, settle_ms=settle_ms or None)
        body.update(kinds=",".join(kinds) if kinds else None, message_thread_id=message_thread_id)
        result: JSON = await self.call("wait", body, get=True)
        return result

    async def calls(self, method: str | None = None, limit: int | None = None) -> list[JSON]:
        result: list[JSON] = await self.call("calls", {"method": method, "limit": limit}, get=True)
        return result

    async def stats(self) -> JSON:
        result: JSON = await self.call("stats", get=True)
        return result

    async def commands(self) -> list[JSON]:
        result: list[JSON] = await self.call("commands", get=True)
        return result

    async def pending_updates(self) -> list[JSON]:
        result: list[JSON] = await self.call("updates", get=True)
        return result

    async def seq(self) -> int:
        result: int = await self.call("seq", get=True)
        return result

    async def file(self, file_id: str) -> bytes:
        async with self._http().get(
            f"{self.base_url}/control/file", params={"file_id": file_id}
        ) as response:
            if response.status != 200:
                raise EmulatorError(response.status, await response.text())
            return await response.read()


class _Profile:
    __slots__ = ("first_name", "language_code", "last_name", "registered", "user_id", "username")

    def __init__(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
    ) -> None:
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.last_name = last_name
        self.registered = False


class Person:
    """A simulated user. Each action moves a cursor; bot output after it is "unread" and is
    read with ``replies()`` (all of it), ``reply()`` (one) or ``expect(text)``.

    ``chat_id`` defaults to the private chat with the bot; ``in_chat()`` gives a view of the
    same person acting in a group (optionally in a forum topic)."""

    def __init__(
        self,
        client: EmulatorClient,
        user_id: int,
        first_name: str,
        language_code: str | None = "ru",
        username: str | None = None,
        *,
        last_name: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        _profile: _Profile | None = None,
    ) -> None:
        self.client = client
        self._profile = _profile or _Profile(
            user_id, first_name, language_code, username, last_name
        )
        self.chat_id = chat_id if chat_id is not None else user_id
        self.thread_id = thread_id
        self.seq = 0
        self._last_bot: JSON | None = None
        self._last_callback: str | None = None
        self._inbox: deque[tuple[str, JSON]] = deque()

    @property
    def user_id(self) -> int:
        return self._profile.user_id

    @property
    def first_name(self) -> str:
        return self._profile.first_name

    def in_chat(self, chat_id: int, thread_id: int | None = None) -> Person:
        """The same person acting in ``chat_id`` (and forum topic ``thread_id``)."""
        view = Person(
            self.client,
            self.user_id,
            self.first_name,
            chat_id=chat_id,
            thread_id=thread_id,
            _profile=self._profile,
        )
        view.seq = self.seq
        return view

    async def register(self) -> JSON:
        profile = self._profile
        user = await self.client.add_user(
            profile.user_id,
            profile.first_name,
            last_name=profile.last_name,
            username=profile.username,
            language_code=profile.language_code,
        )
        profile.registered = True
        return user

    async def _ready(self) -> None:
        if not self._profile.registered:
            await self.register()

    def _moved(self) -> None:
        """After an action: only bot output that follows it is unread."""
        self.seq = max(self.seq, self.client.last_seq)
        self._inbox.clear()

    def _group(self) -> int | None:
        return None if self.chat_id == self.user_id else self.chat_id

    async def send(self, text: str, *, reply_to: int | None = None) -> JSON:
        """Send a text message (commands get a bot_command entity); returns the Message."""
        await self._ready()
        message = await self.client.send(
            self.user_id,
            text,
            chat_id=self._group(),
            message_thread_id=self.thread_id,
            reply_to_message_id=reply_to,
        )
        self._moved()
        return message

    async def press(self, button: str, message: JSON | int | None = None) -> JSON:
        """Press the button with this visible text (or callback_data) on ``message`` or on
        the newest bot message that has it; reply-keyboard buttons send their text."""
        await self._ready()
        message_id = message.get("message_id") if isinstance(message, dict) else message
        result = await self.client.press(
            self.user_id,
            button=button,
            message_id=message_id,
            chat_id=self._group(),
            message_thread_id=self.thread_id,
        )
        self._moved()
        if result.get("type") == "callback_query":
            self._last_callback = str(result["callback_query_id"])
        return result

    async def press_data(self, message_id: int, data: str) -> JSON:
        """Press arbitrary (possibly forged) callback data on a message."""
        await self._ready()
        result = await self.client.press(
            self.user_id, message_id=message_id, callback_data=data, chat_id=self._group()
        )
        self._moved()
        self._last_callback = str(result["callback_query_id"])
        return result

    async def upload(
        self,
        kind: str,
        content: bytes | None = None,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        **extra: Any,
    ) -> JSON:
        """Send media (document, photo, sticker, voice, video, location, contact)."""
        await self._ready()
        message = await self.client.upload(
            self.user_id,
            kind,
            content,
            filename=filename,
            mime_type=mime_type,
            caption=caption,
            chat_id=self._group(),
            message_thread_id=self.thread_id,
            **extra,
        )
        self._moved()
        return message

    async def vote(self, option_ids: list[int], message_id: int | None = None) -> JSON:
        """Vote in the newest native poll of this chat (or the one in ``message_id``)."""
        await self._ready()
        return await self.client.vote(self.user_id, option_ids, chat_id=self._group(),
                                      message_id=message_id)

    async def edit(self, message_id: int, text: str) -> JSON:
        """Edit one of this person's messages (the bot gets an edited_message update)."""
        await self._ready()
        message = await self.client.edit(self.user_id, message_id, text, chat_id=self._group())
        self._moved()
        return message

    async def block(self) -> None:
        await self._ready()
        await self.client.block(self.user_id, True)
        self._moved()

    async def unblock(self) -> None:
        await self._ready()
        await self.client.block(self.user_id, False)
        self._moved()

    async def _fetch(self, wait_s: float, count: int, settle_ms: int, edits: bool) -> None:
        kinds = ("message", "edit") if edits else ("message",)
        result = await self.client.wait(
            self.chat_id,
            after_seq=self.seq,
            count=count,
            timeout=wait_s,
            settle_ms=settle_ms,
            kinds=kinds,
        )
        for event in result["events"]:
            self.seq = max(self.seq, int(event["seq"]))
            if event.get("message") is not None:
                self._inbox.append((str(event["kind"]), event["message"]))

    def _take(self, message: JSON) -> JSON:
        self._last_bot = message
        return message

    async def replies(
        self,
        timeout: float = 5.0,
        *,
        count: int = 1,
        settle_ms: int = 50,
        include_edits: bool = True,
    ) -> list[JSON]:
        """All unread bot messages (new ones, and edits unless ``include_edits=False``) in
        this chat since the person's last action. Waits until there are ``count`` of them
        (then ``settle_ms`` more to catch a burst); returns fewer on timeout. Everything
        returned counts as read."""
        unread = [m for kind, m in self._inbox if include_edits or kind == "message"]
        self._inbox.clear()
        if len(unread) < count:
            await self._fetch(timeout, count - len(unread), settle_ms, include_edits)
            unread.extend(m for _, m in self._inbox)
            self._inbox.clear()
        if unread:
            self._take(unread[-1])
        return unread

    async def reply(self, timeout: float = 5.0) -> JSON:
        """The next unread bot message/edit (others stay unread for the next call);
        raises ``TimeoutError`` if none arrives."""
        if not self._inbox:
            await self._fetch(timeout, 1, 0, True)
        if not self._inbox:
            raise TimeoutError(f"no reply from the bot to user {self.user_id} in {timeout}s")
        return self._take(self._inbox.popleft()[1])

    async def expect(self, *fragments: str, timeout: float = 5.0) -> JSON:
        """Read bot messages until one whose text/caption contains every fragment; later
        messages stay unread. Raises ``AssertionError`` listing what the bot said instead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[str] = []
        while True:
            try:
                message = await self.reply(max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(
                    f"bot never said {fragments!r} to user {self.user_id}; it said: {seen!r}"
                ) from None
            text = str(message.get("text") or message.get("caption") or "")
            if all(fragment in text for fragment in fragments):
                return message
            seen.append(text)

    async def answer(self, timeout: float = 5.0) -> JSON | None:
        """What the bot answered to this person's last button press (None if nothing)."""
        if self._last_callback is None:
            raise RuntimeError("this person has not pressed a callback button yet")
        return await self.client.answer(self._last_callback, timeout)

    def last_bot_message(self) -> JSON | None:
        """The newest bot message read through ``replies()``/``reply()``/``transcript()``."""
        return self._last_bot

    async def transcript(self) -> list[JSON]:
        """Every message in this chat (topic), from people and the bot, in order."""
        messages = await self.client.transcript(self.chat_id, self.thread_id)
        for message in reversed(messages):
            if message.get("from_bot") and not message.get("deleted"):
                self._last_bot = message
                break
        return messages
