"""aiogram's Telegram types are built lazily, and every one of them can still be built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = """
import bot.lean_aiogram as lean
assert lean.LAZY, "aiogram was imported eagerly"
import aiogram.methods, aiogram.types
from pydantic import BaseModel
built = 0
for module in (aiogram.types, aiogram.methods):
    for name in module.__all__:
        cls = getattr(module, name)
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
            if cls.__pydantic_complete__:
                continue
            assert cls.model_rebuild(force=True, raise_errors=True) is not False, name
            built += 1
update = aiogram.types.Update.model_validate({"update_id": 1, "callback_query": {
    "id": "1", "chat_instance": "x", "data": "p:x",
    "from": {"id": 1, "is_bot": False, "first_name": "A"},
    "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
                "text": "hi", "reply_markup": {"inline_keyboard": [[
                    {"text": "a", "callback_data": "b"}]]}}}})
assert update.callback_query.message.reply_markup.inline_keyboard[0][0].text == "a"
print(built)
"""


def test_every_telegram_type_and_method_builds_on_first_use() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) > 300


async def test_birges_filters_run_on_the_event_loop_not_in_threads(tmp_path: Path) -> None:
    """aiogram would run each `F.…` filter through `asyncio.to_thread`: a thread hop per
    handler checked. Every filter of Birge's dispatcher is a coroutine once it is built."""
    from aiogram import F, Router

    from bot.app import make_dispatcher
    from bot.config import Settings
    from bot.lean_aiogram import filters_inline
    from storage.db import Database

    router = Router()
    router.message(F.text == "hi")(_handler)
    assert filters_inline(router) == 1  # the magic filter was a plain function
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    try:
        dp = make_dispatcher(db, Settings())
        plain = [f for r in dp.chain_tail for o in r.observers.values()
                 for h in o.handlers for f in h.filters or [] if not f.awaitable]
        assert not plain
    finally:
        await db.dispose()


async def _handler() -> None:
    return None



async def test_a_button_press_reaches_only_routers_with_a_handler_for_its_prefix(
        tmp_path: Path) -> None:
    """A survey answer is not offered to routers that only take other buttons; a router with
    a handler that could take any press (the fallback) is still asked."""
    from typing import Any

    from aiogram import F, Router
    from aiogram.types import CallbackQuery

    from bot.app import make_dispatcher
    from bot.config import Settings
    from bot.lean_aiogram import button_prefixes, gate_routers
    from bot.views.callbacks import Pick
    from bot.views.surveys import Sv
    from storage.db import Database

    dispatcher, picks, answers, loose = Router(), Router(), Router(), Router()
    picks.callback_query(Pick.filter())(_handler)
    answers.callback_query(Sv.filter())(_handler)
    loose.callback_query(F.data == "x")(_handler)
    asked: list[Router] = []
    for router in (picks, answers, loose):
        dispatcher.include_router(router)

        async def spy(*args: Any, _router: Router = router, **kwargs: Any) -> Any:
            asked.append(_router)
            return await type(_router)._propagate_event(_router, *args, **kwargs)

        router._propagate_event = spy  # type: ignore[method-assign]
    assert button_prefixes(picks) == {"p"} and button_prefixes(loose) is None
    # All three for messages (none has a message handler), `picks` and `answers` for presses.
    assert gate_routers(dispatcher) == 5

    press = CallbackQuery.model_validate({
        "id": "1", "chat_instance": "c", "data": "sv:1:o:q1:a",
        "from": {"id": 1, "is_bot": False, "first_name": "A"}})
    await dispatcher.propagate_event("callback_query", press)
    assert asked == [answers, loose]

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    try:
        dp = make_dispatcher(db, Settings())
        ungated = [r.name for r in dp.sub_routers if "propagate_event" not in vars(r)]
        assert ungated == ["unhandled"]
        assert gate_routers(Router()) == 0
    finally:
        await db.dispose()



async def test_a_message_reaches_only_routers_with_its_command_or_its_conversation_state(
        ) -> None:
    """A survey's typed answer is not offered to the routers of /help or of onboarding; a
    router with a handler that takes any message is still asked."""
    from typing import Any

    from aiogram import F, Router
    from aiogram.filters import Command, StateFilter
    from aiogram.fsm.state import State, StatesGroup
    from aiogram.types import Message

    from bot.lean_aiogram import gate_routers, message_keys

    class Answering(StatesGroup):
        text = State()

    dispatcher, helper, survey, anything = Router(), Router(), Router(), Router()
    helper.message(Command("help"))(_handler)
    survey.message(Command("surveys"))(_handler)
    survey.message(StateFilter(Answering.text), F.text)(_handler)
    anything.message(F.text)(_handler)
    assert message_keys(survey) == ({"surveys"}, {"Answering:text"})
    assert message_keys(anything) is None
    asked: list[Router] = []
    for router in (helper, survey, anything):
        dispatcher.include_router(router)

        async def spy(*args: Any, _router: Router = router, **kwargs: Any) -> Any:
            asked.append(_router)
            return None  # as if no handler took it: the next router is asked

        router._propagate_event = spy  # type: ignore[method-assign]
    # `helper` and `survey` for messages; all three for presses (none has a button handler).
    assert gate_routers(dispatcher) == 5

    def message(text: str) -> Message:
        return Message.model_validate({"message_id": 1, "date": 1, "text": text,
                                       "chat": {"id": 1, "type": "private"}})

    async def offer(text: str, raw_state: str | None) -> list[Router]:
        asked.clear()
        for router in dispatcher.sub_routers:
            await router.propagate_event("message", message(text), raw_state=raw_state)
        return list(asked)

    assert await offer("42", "Answering:text") == [survey, anything]
    assert await offer("/HELP@birge_bot now", "Answering:text") == [helper, survey, anything]
    assert await offer("hello", None) == [anything]
    assert await offer("/surveys", None) == [survey, anything]
