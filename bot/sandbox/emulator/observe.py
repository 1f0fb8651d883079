"""The control API's side that observes: transcripts, waiting for the bot's events, callback
answers, the call log, counters, commands, pending updates and stored files.
"""

from __future__ import annotations

import bisect
import time

from bot.sandbox.emulator.protocol import JSON, ControlError
from bot.sandbox.emulator.state import EmulatorState, Event, Signal


class Observation(EmulatorState):
    """What tests, the sandbox page and benchmarks read (``/control/transcript``, ``wait``...)."""

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

        def collect() -> list[Event]:
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

        def signal() -> Signal:
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
