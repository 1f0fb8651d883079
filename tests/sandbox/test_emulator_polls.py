"""The emulator's polls: sendPoll, votes that come back as poll_answer and poll updates,
stopPoll, and Telegram's refusals."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.sandbox.client import EmulatorClient, EmulatorError


async def test_a_person_votes_in_a_bots_poll_and_the_bot_hears_who_voted(
        bot: Bot, client: EmulatorClient) -> None:
    person = client.person(501, "Asel")
    await person.register()
    sent = await bot.send_poll(501, "Когда собрание?", ["Понедельник", "Пятница"],
                               is_anonymous=False, allows_multiple_answers=False)
    assert sent.poll is not None and sent.poll.total_voter_count == 0
    await person.vote([1])
    updates = await bot.get_updates(timeout=0)
    answers = [u.poll_answer for u in updates if u.poll_answer]
    polls = [u.poll for u in updates if u.poll]
    assert answers[0].poll_id == sent.poll.id and answers[0].option_ids == [1]
    assert answers[0].user is not None and answers[0].user.id == 501
    assert polls[-1].options[1].voter_count == 1
    with pytest.raises(EmulatorError):
        await person.vote([0, 1])  # one answer only
    stopped = await bot.stop_poll(501, sent.message_id)
    assert stopped.is_closed and stopped.options[1].voter_count == 1
    with pytest.raises(EmulatorError):
        await person.vote([0])
    with pytest.raises(TelegramBadRequest):
        await bot.stop_poll(501, sent.message_id)
    transcript = await person.transcript()
    assert transcript[-1]["poll"]["is_closed"] is True


async def test_sendpoll_refusals(bot: Bot, client: EmulatorClient) -> None:
    await client.person(502, "Nurlan").register()
    with pytest.raises(TelegramBadRequest):
        await bot.send_poll(502, "Only one option?", ["Yes"])
    with pytest.raises(TelegramBadRequest):
        await bot.send_poll(502, "x" * 301, ["Yes", "No"])
    with pytest.raises(TelegramBadRequest):
        await bot.stop_poll(502, 999)
