"""The control API's side that acts as people: write, upload, edit, press a button, block the
bot, open a forum topic. Each action stores the person's message and queues the update the
bot will receive, exactly as Telegram would deliver it.
"""

from __future__ import annotations

import base64
import mimetypes
import time
from collections.abc import Iterable
from typing import Any

from bot.sandbox.emulator.methods.files import image_size, media_json, store_file, store_photo
from bot.sandbox.emulator.methods.forum import create_topic
from bot.sandbox.emulator.protocol import (
    BOT_COMMAND_AT_START,
    DEFAULT_TOPIC_COLOR,
    JSON,
    TINY_PNG,
    ControlError,
)
from bot.sandbox.emulator.state import CallbackQuery, Chat, EmulatorState, Msg, User


class ControlAPI(EmulatorState):
    """People's actions: ``/control/send``, ``press``, ``upload``, ``edit``, ``block``..."""

    def _user(self, user_id: Any) -> User:
        if user_id is None:
            raise ControlError(400, "user_id is required")
        uid = int(user_id)
        if uid not in self._users:
            self.add_user(uid)
        return self._users[uid]

    def _control_chat(self, user: User, chat_id: Any) -> Chat:
        cid = user.id if chat_id in (None, "") else int(chat_id)
        chat = self._chats.get(cid)
        if chat is None:
            raise ControlError(404, f"chat {cid} does not exist (create it via /control/chats)")
        return chat

    def _user_thread(self, chat: Chat, thread_id: Any) -> int | None:
        if thread_id in (None, "", 0):
            return None
        tid = int(thread_id)
        if chat.is_forum and tid not in chat.topics:
            raise ControlError(404, f"topic {tid} does not exist in chat {chat.id}")
        return tid if chat.is_forum else None

    def _user_message(
        self, user: User, chat: Chat, content: JSON, thread_id: Any, reply_to_message_id: Any
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
        command = BOT_COMMAND_AT_START.match(text)
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
            width, height = image_size(blob) or (800, 600)
            content["photo"] = store_photo(self, blob, width, height)
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
            stored = store_file(
                self,
                kind,
                blob,
                file_name=str(file_name) if file_name else None,
                mime_type=str(mime),
                width=int(body.get("width") or 0),
                height=int(body.get("height") or 0),
                duration=int(body.get("duration") or 1),
            )
            media = media_json(stored)
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
        self._callbacks[query_id] = CallbackQuery(
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
        topic, msg = create_topic(
            self,
            chat,
            user.json(),
            str(body.get("name") or "Topic"),
            int(body.get("icon_color") or DEFAULT_TOPIC_COLOR),
            None,
            from_bot=False,
        )
        self._push_update("message", msg.data)
        return {"topic": topic, "message": msg.data}


def _buttons(msg: Msg) -> Iterable[JSON]:
    markup = msg.data.get("reply_markup") or {}
    for row in markup.get("inline_keyboard") or []:
        yield from row


def _find_button(msg: Msg, wanted: str) -> str | None:
    """Callback data of the button whose text (or else callback_data) equals ``wanted``."""
    buttons = list(_buttons(msg))
    for button in buttons:
        if button.get("text") == wanted and "callback_data" in button:
            return str(button["callback_data"])
    for button in buttons:
        if button.get("callback_data") == wanted:
            return wanted
    return None


def _has_callback_data(msg: Msg, data: str) -> bool:
    return any(button.get("callback_data") == data for button in _buttons(msg))


def _find_reply_keyboard_button(chat: Chat, wanted: str) -> str | None:
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
