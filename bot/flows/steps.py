"""Back, Skip, Done and Cancel carry the step they were shown for.

A guided flow's navigation buttons (`Nav`) used to say only "back" or "skip": pressed on an old
message (scrolled up three steps, or after a restart) they acted on whatever step the flow was
at now, and a Cancel left on a finished flow's message cancelled the next one. Now:

* Every `Nav` button the bot sends into a member's chat while the member is in a tracked flow
  is stamped with that flow and step as it goes out (`on_request`, on the Bot's session), so no
  step's keyboard can forget it: "n:back" becomes "n:back:Onboarding:district".
* `NavSteps`, a middleware in front of every button press, lets a Nav press through only when
  it fits the state the member is in; otherwise it is answered "This button is no longer
  active." and the member is shown the step they are on (`guard.stale_press`), nothing changed.

In a tracked flow, Back, Skip and Done act only from the step the member is on. Cancel acts
from any step of the same flow: the member who presses it wants out of this flow whichever of
its messages they press it on, and it drops only this flow's draft, which they can see; making
them find the newest Cancel would cost a round trip on a slow connection and protect nothing.
A Cancel of another flow (one finished long ago, or set aside) is stale: it must not drop the
draft going on now. An unstamped button (from a version of Birge before the stamp, or from a
flow not tracked yet) is stale in a tracked flow.

Every flow of bot/flows/ is tracked, and of bot/handlers/ the group setup, the invitation and
an issue's typed answers. A flow not tracked yet keeps the old rule for its own unstamped
buttons; a stamped button pressed there is another flow's, and stale.

A flow opts in with `track(Group)`, under one condition: it sets a step's state before it shows
that step's prompt (the stamp is the state when the message goes out).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, TelegramObject

from bot.flows import guard
from bot.views.callbacks import Nav

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

_tracked: set[str] = set()  # full state names ("Ask:text") of the flows that stamp
_chat: contextvars.ContextVar[FSMContext | None] = contextvars.ContextVar(
    "birge_flow_state", default=None)
_PREFIX = Nav.__prefix__ + Nav.__separator__


def track(group: type[StatesGroup]) -> None:
    """This flow's Nav buttons carry their step, and only a fitting press acts."""
    _tracked.update(group.__all_states_names__)


def tracked(raw_state: str | None) -> bool:
    return raw_state in _tracked


def tracked_states() -> frozenset[str]:
    """Every state ("Ask:text") whose Nav buttons carry it."""
    return frozenset(_tracked)


def read_nav(data: str | None) -> Nav | None:
    """The Nav button a press carries (None: another kind of button, or not one Birge makes)."""
    if not data or not data.startswith(_PREFIX):
        return None
    try:
        return Nav.unpack(data)
    except (TypeError, ValueError):
        return None


def fits(nav: Nav, raw_state: str | None) -> bool:
    """Whether a Nav press may act in the state the member is in (see the module's rules)."""
    if not tracked(raw_state):
        return not nav.flow
    assert raw_state is not None
    flow, _sep, step = raw_state.partition(":")
    return nav.flow == flow and (nav.action == "cancel" or nav.step == step)


def stamp(markup: InlineKeyboardMarkup, raw_state: str) -> InlineKeyboardMarkup:
    """The keyboard with its unstamped Nav buttons stamped with `raw_state` ("Flow:step")."""
    flow, _sep, step = raw_state.partition(":")

    def stamped(button: InlineKeyboardButton) -> InlineKeyboardButton:
        nav = read_nav(button.callback_data)
        if nav is None or nav.flow:
            return button
        data = Nav(action=nav.action, flow=flow, step=step).pack()
        return button.model_copy(update={"callback_data": data})

    return InlineKeyboardMarkup(
        inline_keyboard=[[stamped(b) for b in row] for row in markup.inline_keyboard])


def _unstamped(markup: InlineKeyboardMarkup) -> bool:
    return any((nav := read_nav(b.callback_data)) is not None and not nav.flow
               for row in markup.inline_keyboard for b in row)


async def on_request(make_request: Any, bot: Any, method: Any) -> Any:
    """A Bot session middleware: a message (or edit) with Nav buttons sent into the chat of the
    update being handled carries the step that chat's member is on as it goes out."""
    state = _chat.get()
    markup = getattr(method, "reply_markup", None)
    if state is not None and isinstance(markup, InlineKeyboardMarkup) \
            and str(getattr(method, "chat_id", "")) == str(state.key.chat_id) \
            and _unstamped(markup):
        raw = await state.get_state()
        if tracked(raw):
            assert raw is not None
            method.reply_markup = stamp(markup, raw)
    return await make_request(bot, method)


class NavSteps(BaseMiddleware):
    """On messages and button presses: makes the update's conversation known to `on_request`;
    a Nav press that does not fit the member's state is answered as stale, nothing changed."""

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        token = _chat.set(state)
        try:
            if isinstance(event, CallbackQuery) and state is not None:
                nav = read_nav(event.data)
                if nav is not None and not fits(nav, data.get("raw_state")):
                    await guard.stale_press(event, state, data.get("db"), data.get("member"))
                    return None
            return await handler(event, data)
        finally:
            _chat.reset(token)
