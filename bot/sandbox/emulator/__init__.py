"""In-memory Telegram Bot API emulator for Birge tests, the sandbox and benchmarks.

Why this exists: Birge must be exercised end-to-end with an *unmodified* aiogram bot, but
tests cannot reach Telegram. The emulator serves the subset of the Bot API Birge uses on
127.0.0.1 (same URLs, JSON shapes and error texts as Telegram, including its refusals and
429 flood limits) plus a JSON control API under ``/control/`` through which tests act as
people (send text, press buttons, upload files, block the bot) and observe what the bot did.

Run standalone with ``python -m bot.sandbox.emulator --host 127.0.0.1 --port 8081`` or in a
test with ``async with run_emulator() as url: ...`` (see ``EmulatorServer``).

Layout (each module imports only the ones above it):

- ``protocol``  constants, ``ApiError``/``ControlError``, ``Params`` (JSON, form, multipart)
- ``state``     users, chats, messages, files, forum topics, updates, events, the call log
- ``limits``    blocked chats (403) and the flood limits (429 with retry_after)
- ``registry``  the table Bot API method name -> function, filled by ``methods/``
- ``methods/``  the Bot API by area: ``messages`` (send, edit, delete), ``callbacks``,
  ``files`` (send* media, getFile), ``forum``, ``commands``, ``chats``, ``updates``
  (getMe, getUpdates), ``webhooks``
- ``control``   the control API acting as people; ``observe`` the control API reading;
  ``faults``    injected failures
- ``core``      ``BotAPIEmulator`` (all of the above in one object) and the Bot API dispatch
- ``server``    the aiohttp app, ``EmulatorServer``, ``run_emulator``, the command line

Adding a Bot API method is one function in one area module (a new module in ``methods/`` is
picked up by itself) plus its test in tests/sandbox/ (test_emulator_registry.py shows how)::

    # bot/sandbox/emulator/methods/polls.py
    @bot_method("sendPoll")
    def send_poll(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
        chat = emu._chat_for(p)
        ...
        return bot_send(emu, ctx, chat, p, {"poll": poll}, raw_text=None, markup=markup_for(p))

The function returns the method's ``result`` or raises ``bad("...")`` with Telegram's own
refusal text. A new kind of update for the bot is ``emu._push_update("poll_answer", {...})``
from a new control action in ``control``.
"""

from __future__ import annotations

from bot.sandbox.emulator.core import BotAPIEmulator
from bot.sandbox.emulator.protocol import (
    CAPTION_LIMIT,
    NOT_MODIFIED,
    QUERY_INVALID,
    TEXT_LIMIT,
    ApiError,
    ControlError,
    Params,
    Upload,
)
from bot.sandbox.emulator.registry import METHODS, bot_method, register
from bot.sandbox.emulator.server import (
    EMULATOR_KEY,
    EmulatorServer,
    create_app,
    main,
    run_emulator,
)

__all__ = [
    "CAPTION_LIMIT",
    "EMULATOR_KEY",
    "METHODS",
    "NOT_MODIFIED",
    "QUERY_INVALID",
    "TEXT_LIMIT",
    "ApiError",
    "BotAPIEmulator",
    "ControlError",
    "EmulatorServer",
    "Params",
    "Upload",
    "bot_method",
    "create_app",
    "main",
    "register",
    "run_emulator",
]
