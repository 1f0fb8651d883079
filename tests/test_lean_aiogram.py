"""aiogram's Telegram types are built lazily, and every one of them can still be built."""

from __future__ import annotations

import subprocess
import sys

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
