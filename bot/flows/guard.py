"""One rule for commands typed in the middle of a guided flow (every flow gets it for free).

A guided flow is any conversation with an FSM state in a private chat: onboarding, /ask, an
answer, the legal intake, /raise, /broadcast, and every flow added later. `FlowCommands` is a
message middleware on the Dispatcher, so it sees a message before any router does:

* A message starting with "/" is never content: no flow handler ever receives it.
* `/cancel` leaves the flow and drops the draft (its own handler in `bot.handlers.start`).
* `/help` and `/language` are answered as usual; the flow stays where it is, and Birge says how
  to go on and shows the current step again (`/language` shows it once a language is picked).
* `/start` does not restart anything mid-flow: Birge says how to go on and shows the step again.
* `/continue` goes back to a flow that was set aside (see the next rule); if the member is in
  another flow at that moment, the two swap places.
* Any other command Birge knows (found from the routers' `Command` filters, so a new feature's
  commands count at once) leaves the flow and keeps the draft: the state and its answers are set
  aside (under the FSM key's destiny "paused", on top of up to two flows kept before: /continue
  takes the newest first, a fourth drops the oldest and says so), the command runs as if no
  flow was going on, and Birge adds "kept for later: …; /continue to go back to it".
* An unknown command is answered "I do not know that command" and how to go on.
* A state that is no flow, only where the next message goes (`register_passing`: search
  results, where another message searches again), is simply left by any command but /cancel:
  nothing is set aside, nothing is said about it, and a flow set aside earlier stays there.

A flow registers itself once, at import, so that its name can be said and its step shown again:

    guard.register(Ask, __("your question"), resume)

where `resume(message, state, db, member, step)` shows the prompt of `step` (the part of the
state name after ":") as a new message. A flow that does not register still gets the rule; Birge
then points to "the step above" instead of showing it again. `show_step` is public: anything
that needs the member to see their current step again (a restart, a language change) calls it.

A button pressed on an older step (a message from before a restart whose next prompt never
went out, or simply an old message) is answered "no longer active" by `stale_press`, which then
shows the step the member is on: every flow's stale branch and the catch-all for buttons nothing
handles call it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.i18n import _
from bot.services.members import MemberView
from storage.db import Database

log = logging.getLogger(__name__)

Resume = Callable[[Message, FSMContext, Database, "MemberView | None", str], Awaitable[None]]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

STAY = frozenset({"help", "language"})   # answered; the flow stays and is shown again
HERE = frozenset({"start"})              # not run mid-flow: Birge says how to go on
CANCEL = "cancel"
CONTINUE = "continue"
PAUSED = "paused"
KEPT = 3  # flows set aside at once (FSM destinies "paused", "paused-2", "paused-3")


@dataclass(frozen=True)
class Flow:
    title: Any  # a lazy string: rendered in the member's language when said
    resume: Resume | None


_flows: dict[str, Flow] = {}
_passing: set[str] = set()


def register(group: type[StatesGroup], title: Any, resume: Resume | None = None) -> None:
    """Name a flow (its states' group) and give the function that shows one of its steps."""
    _flows[group.__full_group_name__] = Flow(title, resume)


def register_passing(group: type[StatesGroup]) -> None:
    """A state that is no flow, only where the next message goes (search results: another
    message searches again). It holds nothing to keep: a command simply leaves it, and a flow set
    aside before it stays set aside for /continue."""
    _passing.add(group.__full_group_name__)


def is_passing(raw_state: str | None) -> bool:
    return bool(raw_state) and str(raw_state).partition(":")[0] in _passing


def flow_of(raw_state: str | None) -> tuple[Flow | None, str]:
    """The registered flow of a state such as "Ask:text", and the step ("text")."""
    if not raw_state:
        return None, ""
    group, _sep, step = raw_state.partition(":")
    return _flows.get(group), step


def command_of(text: str | None) -> str | None:
    """"/search бюджет" → "search"; "/help@BirgeBot" → "help"; not a command → None."""
    if not text or not text.startswith("/"):
        return None
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 and not text[1].isspace() else ""
    return word.split("@", 1)[0].lower()


def known_commands(routers: Iterable[Router]) -> frozenset[str]:
    """Every command some router answers (from its handlers' `Command` filters)."""
    names: set[str] = {CANCEL, CONTINUE}
    for router in routers:
        for handler in router.message.handlers:
            for flt in handler.filters or []:
                if isinstance(flt.callback, Command):
                    names.update(c.lower() for c in flt.callback.commands if isinstance(c, str))
    return frozenset(names)


def _title(flow: Flow | None) -> str:
    return str(flow.title) if flow is not None else _("what you were doing")


async def show_step(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> bool:
    """Show the member the step they are on as a new message; False when nobody can."""
    raw = await state.get_state()
    flow, step = flow_of(raw)
    if flow is None or flow.resume is None:
        return False
    await flow.resume(message, state, db, member, step)
    return True


async def stale_press(query: CallbackQuery, state: FSMContext | None, db: Database | None,
                      member: MemberView | None) -> None:
    """An old step's button: say so, and show the member the step they are on (its prompt may
    have been lost to a restart)."""
    await query.answer(_("This button is no longer active."))
    message = query.message
    if state is None or db is None or not isinstance(message, Message) \
            or message.chat.type != "private":
        return
    # The step is sent as a new message to the member's chat, as if they had written.
    mine = message.model_copy(update={"from_user": query.from_user})
    try:
        await show_step(mine, state, db, member)
    except Exception:  # a step that cannot be shown stays as it was: the press is answered
        log.exception("showing the current step after a stale press failed")


async def how_to_go_on(message: Message, state: FSMContext, db: Database,
                       member: MemberView | None, lead: str | None = None) -> None:
    """"You are in the middle of …; your answers are kept" and the current step again."""
    flow, _step = flow_of(await state.get_state())
    shown_again = flow is not None and flow.resume is not None
    text = _("You are in the middle of: {flow}. Your answers so far are kept.").format(
        flow=_title(flow))
    text += " " + (_("Continue with the step below, or send /cancel to stop.") if shown_again
                   else _("Continue with the step above, or send /cancel to stop."))
    await message.answer(f"{lead}\n\n{text}" if lead else text)
    await show_step(message, state, db, member)


def _paused(state: FSMContext, slot: int = 0) -> FSMContext:
    destiny = PAUSED if slot == 0 else f"{PAUSED}-{slot + 1}"
    return FSMContext(storage=state.storage, key=replace(state.key, destiny=destiny))


async def _copy(source: FSMContext, target: FSMContext) -> bool:
    """`target` holds what `source` holds (nothing, if it holds nothing); whether it held a flow."""
    raw = await source.get_state()
    await target.set_state(raw)
    await target.set_data(await source.get_data() if raw else {})
    return raw is not None


async def set_aside(state: FSMContext) -> tuple[Flow | None, Flow | None]:
    """Keep the current flow (state and answers) for /continue and leave it. It goes on top of
    the flows kept before, up to KEPT of them (kept in order from slot 0, the newest); the flow
    and the oldest one dropped to make room, if any."""
    raw = await state.get_state()
    data = await state.get_data()
    slots = [_paused(state, i) for i in range(KEPT)]
    dropped: Flow | None = None
    if await slots[0].get_state() is not None:
        dropped, _step = flow_of(await slots[-1].get_state())
        for i in range(KEPT - 1, 0, -1):
            await _copy(slots[i - 1], slots[i])
    await slots[0].set_state(raw)
    await slots[0].set_data(data)
    await state.clear()
    flow, _step = flow_of(raw)
    return flow, dropped


async def take_back(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    """/continue: the newest flow set aside becomes the current one (swapping places with a
    current one; otherwise the older ones move up)."""
    slots = [_paused(state, i) for i in range(KEPT)]
    raw = await slots[0].get_state()
    if raw is None:
        await message.answer(_("There is nothing to continue."))
        return
    data = await slots[0].get_data()
    now_raw, now_data = await state.get_state(), await state.get_data()
    if is_passing(now_raw):  # nothing to keep: it is not swapped in for later
        now_raw = None
    if now_raw is not None:
        await slots[0].set_state(now_raw)
        await slots[0].set_data(now_data)
    else:
        for i in range(1, KEPT):
            if not await _copy(slots[i], slots[i - 1]):
                break
        else:
            await slots[-1].clear()
    await state.set_state(raw)
    await state.set_data(data)
    flow, _step = flow_of(raw)
    if not await show_step(message, state, db, member):
        await message.answer(_("Back to: {flow}. Continue with the step above, or send /cancel "
                               "to stop.").format(flow=_title(flow)))


class FlowCommands(BaseMiddleware):
    """The rule above, for every message in a private chat (see the module's docstring)."""

    def __init__(self, commands: frozenset[str]) -> None:
        self.commands = commands

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.chat.type != "private":
            return await handler(event, data)
        command = command_of(event.text)
        state: FSMContext | None = data.get("state")
        if command is None or state is None:
            return await handler(event, data)
        db: Database = data["db"]
        member: MemberView | None = data.get("member")
        if command == CONTINUE:
            await take_back(event, state, db, member)
            return None
        raw = data.get("raw_state")
        if raw is None or command == CANCEL:
            return await handler(event, data)
        if is_passing(raw):  # search results and the like: the command runs as outside a flow
            await state.clear()
            data["raw_state"] = None
            return await handler(event, data)
        if command in STAY:
            result = await handler(event, data)
            if command == "help" and await state.get_state() == raw:
                await how_to_go_on(event, state, db, member)
            return result
        if command in HERE:
            await how_to_go_on(event, state, db, member)
            return None
        if command not in self.commands:
            await how_to_go_on(event, state, db, member,
                               lead=_("Birge has no such command."))
            return None
        flow, dropped = await set_aside(state)
        data["raw_state"] = None
        result = await handler(event, data)
        kept = _("Kept for later: {flow}. Send /continue to go back to it.").format(
            flow=_title(flow))
        if dropped is not None:
            kept += "\n" + _("At most three are kept, so this one is kept no longer: "
                             "{flow}.").format(flow=_title(dropped))
        await event.answer(kept)
        return result
