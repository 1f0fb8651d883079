"""Native polls: sendPoll, stopPoll, and a person's vote (``/control/vote``).

A vote updates the poll message's counts (an edit event, as the app shows it), queues a
``poll`` update with the new state and, for a non-anonymous poll, a ``poll_answer`` update
naming the voter — what a bot needs to record who answered what. Voting again replaces the
person's choice; an empty choice takes the vote back; a stopped poll takes no votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.methods.messages import bot_send, markup_for
from bot.sandbox.emulator.protocol import JSON, ControlError, Params, bad
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, Chat, EmulatorState, Msg

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
OPTIONS_MIN, OPTIONS_MAX = 2, 12


@dataclass
class Poll:
    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    anonymous: bool
    multiple: bool
    closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    def json(self) -> JSON:
        counts = [0] * len(self.options)
        for chosen in self.votes.values():
            for i in chosen:
                counts[i] += 1
        return {"id": self.id, "question": self.question,
                "options": [{"persistent_id": str(i), "text": t, "voter_count": c}
                            for i, (t, c) in enumerate(zip(self.options, counts, strict=True))],
                "total_voter_count": len(self.votes), "is_closed": self.closed,
                "is_anonymous": self.anonymous, "type": "regular",
                "allows_multiple_answers": self.multiple, "allows_revoting": True,
                "members_only": False}


def polls(emu: EmulatorState) -> dict[str, Poll]:
    """The emulator's polls by id (kept beside its state; a reset starts a new table)."""
    table: dict[str, Poll] | None = emu.__dict__.get("_polls")
    if table is None or emu.__dict__.get("_polls_of") is not emu._chats:
        table = {}
        emu.__dict__["_polls"] = table
        emu.__dict__["_polls_of"] = emu._chats
    return table


def _options(p: Params) -> list[str]:
    raw = p.json("options", "can't parse options JSON object")
    if not isinstance(raw, list):
        raise bad("options must be an Array")
    found = []
    for item in raw:
        text = item.get("text") if isinstance(item, dict) else item
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= OPTION_LIMIT:
            raise bad("POLL_OPTION_INVALID")
        found.append(text)
    if not OPTIONS_MIN <= len(found) <= OPTIONS_MAX:
        raise bad("POLL_OPTIONS_COUNT_INVALID" if found else "POLL_OPTIONS_EMPTY")
    return found


def _refresh(emu: EmulatorState, chat: Chat, msg: Msg, poll: Poll) -> None:
    msg.data = {**msg.data, "poll": poll.json()}
    msg.edit_count += 1
    emu._emit(chat, "edit", msg)


@bot_method("sendPoll")
def send_poll(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    chat = emu._chat_for(p)
    question = p.string("question") or ""
    if not 1 <= len(question) <= QUESTION_LIMIT:
        raise bad("POLL_QUESTION_INVALID")
    options = _options(p)
    if (p.string("type") or "regular") != "regular":
        raise bad("quiz polls are not supported by the emulator")
    anonymous = p.raw.get("is_anonymous") in (None, "") or p.flag("is_anonymous")
    if anonymous is False and chat.type == "channel":
        raise bad("POLL_ANONYMOUS_REQUIRED")
    poll_id = str(5_000_000_000_000_000_000 + len(polls(emu)) + 1)
    poll = Poll(poll_id, chat.id, 0, question, options, bool(anonymous),
                p.flag("allows_multiple_answers"))
    data = bot_send(emu, ctx, chat, p, {"poll": poll.json()}, raw_text=None,
                    markup=markup_for(p))
    poll.message_id = int(data["message_id"])
    polls(emu)[poll_id] = poll
    return data


@bot_method("stopPoll")
def stop_poll(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    chat = emu._chat_for(p)
    message_id = p.integer("message_id")
    msg = chat.messages.get(message_id or 0)
    if msg is None or msg.deleted or "poll" not in msg.data:
        raise bad("message with poll to stop not found")
    poll = polls(emu).get(str(msg.data["poll"]["id"]))
    if poll is None or not msg.from_bot:
        raise bad("message with poll to stop not found")
    if poll.closed:
        raise bad("poll has already been closed")
    poll.closed = True
    _refresh(emu, chat, msg, poll)
    emu._push_update("poll", poll.json())
    return poll.json()


def control_vote(emu: EmulatorState, body: JSON) -> JSON:
    """A person votes: ``{"user_id", "chat_id"?, "message_id"?, "option_ids": [...]}``
    (without ``message_id``: the newest open poll in the chat)."""
    user_id = body.get("user_id")
    if user_id is None:
        raise ControlError(400, "user_id is required")
    users: dict[int, Any] = emu._users
    user = users.get(int(user_id))
    if user is None:
        raise ControlError(404, f"user {user_id} does not exist")
    chat_id = int(body.get("chat_id") or user.id)
    chat = emu._chats.get(chat_id)
    if chat is None:
        raise ControlError(404, f"chat {chat_id} does not exist")
    found = [x for x in polls(emu).values() if x.chat_id == chat_id and
             (body.get("message_id") in (None, "", 0) or x.message_id == int(body["message_id"]))]
    if not found:
        raise ControlError(404, f"no poll in chat {chat_id}")
    poll = found[-1]
    if poll.closed:
        raise ControlError(409, "the poll is closed")
    raw = body.get("option_ids") or []
    chosen = sorted({int(i) for i in raw})
    if any(not 0 <= i < len(poll.options) for i in chosen):
        raise ControlError(400, "option_ids out of range")
    if len(chosen) > 1 and not poll.multiple:
        raise ControlError(400, "this poll takes one answer")
    if chosen:
        poll.votes[user.id] = chosen
    else:
        poll.votes.pop(user.id, None)
    msg = chat.messages[poll.message_id]
    _refresh(emu, chat, msg, poll)
    emu._push_update("poll", poll.json())
    if not poll.anonymous:
        emu._push_update("poll_answer", {"poll_id": poll.id, "user": user.json(),
                                         "option_ids": chosen,
                                         "option_persistent_ids": [str(i) for i in chosen]})
    return poll.json()
