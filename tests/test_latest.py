"""What Birge takes for a chat's newest message belongs to one Bot, not to every Bot that
shares its token (aiogram's Bots are equal when their tokens are)."""

from __future__ import annotations

from aiogram import Bot

from bot.flows.ui import Latest

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


async def test_a_new_bot_with_the_same_token_starts_with_no_newest_message() -> None:
    before, after = Bot(TOKEN), Bot(TOKEN)
    try:
        assert before == after  # why a dictionary keyed by Bot would mix them up
        Latest.of(before).note(700000003, 16)
        assert not Latest.of(before).is_last(700000003, 3)
        assert Latest.of(after).is_last(700000003, 3)  # a restarted sandbox's menu is the last
    finally:
        await before.session.close()
        await after.session.close()
