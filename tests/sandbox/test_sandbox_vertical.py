"""The sandbox's demo of the vertical loop, as the personas meet it: the Talas leader is asked
to sign off the Union's position, the Ministry of Finance's liaison sees the dossier addressed to
the ministry and has answered it, the land-tax issue's author hears the response, and staff get
the response with Correct and see the comments and the sign-off so far."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox import demo, demo_vertical
from bot.sandbox.server import Sandbox
from bot.services import law_comments, members, positions
from bot.views.positions import comment_words
from storage.models import LawPosition
from tests.sandbox.test_sandbox_server import bot_says, call, config


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with Sandbox(config(tmp_path / "sandbox.db")) as running:
        yield running


async def test_the_personas_meet_a_position_to_sign_off_and_a_liaisons_answer(
    sandbox: Sandbox,
) -> None:
    db = sandbox.birge.db
    ask = await bot_says(sandbox, demo.TALAS_LEADER.telegram_id,
                         "ЖӨБ союзу мыйзам долбоорун колдойт")
    votes = [b["callback_data"] for row in ask["reply_markup"]["inline_keyboard"] for b in row]
    assert any(d.startswith("lv:agree:") for d in votes), votes
    await bot_says(sandbox, demo.TALAS_LEADER.telegram_id, "поправки в Бюджетный кодекс")
    card = await bot_says(sandbox, demo.STAFF.telegram_id, "поправки в Бюджетный кодекс")
    assert "04-2/1187" in card["text"]
    assert any(b["callback_data"].startswith("lr:correct:")
               for row in card["reply_markup"]["inline_keyboard"] for b in row)

    await call(sandbox, "POST", "/api/send", {"persona": "liaison", "text": "/liaison"})
    listed = await bot_says(sandbox, demo.LIAISON.telegram_id, "Министерство финансов")
    assert any(b["text"].startswith("X-") for row in listed["reply_markup"]["inline_keyboard"]
               for b in row)

    staff = await members.by_telegram(db, demo.STAFF.telegram_id)
    assert staff is not None
    async with db.read() as s:
        position = (await s.exec(select(LawPosition))).first()
    assert position is not None and position.id is not None
    tally = await positions.tally(db, staff.id, position.id, "ru")
    assert position.status == "signoff" and tally.counts["remarks"] == 1 and tally.asked >= 4
    _title, comments = await law_comments.all_comments(db, staff.id, position.broadcast_id,
                                                      comment_words("ru"))
    assert len(comments) == len(demo_vertical.COMMENTS)
