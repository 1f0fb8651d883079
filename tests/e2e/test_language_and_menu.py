"""A visitor's language is kept from the first tap; the command menu follows each chat's language
and roles; Birge starts even when the Bot API refuses to set a menu (issue 13, items 3 and 16)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot import menu
from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import EmulatorServer
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    decide,
    pick,
    press,
    said,
    t,
    wait_for,
)
from tests.e2e.journeys import member


async def chat_menu(tg: EmulatorClient, chat_id: int) -> list[dict[str, Any]]:
    """The commands Birge set for one chat (empty when it set none)."""
    for entry in await tg.commands():
        if entry["scope"] != "default" and json.loads(entry["scope"]).get("chat_id") == chat_id:
            return list(entry["commands"])
    return []


def described(commands: list[dict[str, Any]]) -> dict[str, str]:
    return {c["command"]: c["description"] for c in commands}


async def test_a_visitor_who_picks_english_is_answered_in_english_until_they_join(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    visitor = await people("Visitor", "ru")  # a Russian Telegram app
    await visitor.send("/language")
    await said(visitor, t("ru", "Choose your language."))
    await press(visitor, pick("setlang", "en"))
    await said(visitor, "Language changed: English.")

    await visitor.send("/help")
    await said(visitor, t("en", "Birge connects the local self-government bodies"))
    await visitor.send("/settings")
    await said(visitor, t("en", "Settings are for approved members."))
    await visitor.send("здравствуйте")
    await said(visitor, t("en", "Welcome! Send /start to join Birge."))
    await visitor.send("/start")
    step = await said(visitor, t("en", "Choose your language."))
    ticked = [label for label, _ in buttons(step) if label.startswith("✅")]
    assert ticked == ["✅ English"]

    # The menu of this chat is in English too, and offers what a visitor can do.
    async def english_menu() -> bool:
        return described(await chat_menu(tg, visitor.user_id)).get("help") == \
            t("en", "What you can do")
    await wait_for(english_menu)
    assert set(described(await chat_menu(tg, visitor.user_id))) == {"start", "language", "help"}


async def test_the_menu_follows_a_members_language_and_roles(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    boss_person = await people("Boss", "ru")
    await f.staff(birge.db, boss_person.user_id, "Union Staff", language="ru")
    await boss_person.send("/help")
    await said(boss_person, t("ru", "What you can do in Birge:"))
    staff_menu = described(await chat_menu(tg, boss_person.user_id))
    assert {"broadcast", "broadcasts", "dossiers", "legal", "bulletin", "invite"} <= \
        set(staff_menu)
    assert staff_menu["ask"] == t("ru", "Ask a question")

    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/help")
    await said(asel, t("ru", "What you can do in Birge:"))
    plain = described(await chat_menu(tg, asel.user_id))
    assert "ask" in plain and "broadcast" not in plain and "bulletin" not in plain
    await asel.send("/language")
    await said(asel, t("ru", "Choose your language."))
    await press(asel, pick("setlang", "ky"))
    await said(asel, "Кыргызча")
    assert described(await chat_menu(tg, asel.user_id))["ask"] == t("ky", "Ask a question")


async def test_the_approved_newcomer_gets_the_members_menu_at_once(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    boss_person = await people("Boss", "ru")
    await f.staff(birge.db, boss_person.user_id, "Union Staff", language="ru")
    applicant = await people("Aibek", "ky")
    pending = await f.applicant(birge.db, "Айбек Асанов", telegram_id=applicant.user_id,
                                language="ky")
    await said(boss_person, "Айбек Асанов")
    await press(boss_person, decide("approve", pending.id))
    await said(applicant, t("ky", "Your application has been approved."))
    assert "ask" in described(await chat_menu(tg, applicant.user_id))


async def test_birge_starts_and_answers_when_the_bot_api_refuses_to_set_the_menu(
    server: EmulatorServer, tg: EmulatorClient, db_url: str, people: PersonFactory,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(menu, "RETRY_SECONDS", 0.2)
    await tg.fail(count=2, kind="404", methods=["setMyCommands"],
                  description="Not Found: method not found")
    running = Running(server.url, db_url)
    with caplog.at_level(logging.WARNING):
        await running.start()
    try:
        visitor = await people("Visitor", "ru")
        await visitor.send("/start")
        await said(visitor, t("ru", "Choose your language."))

        async def default_menu_set() -> bool:
            return any(e["scope"] == "default" for e in await tg.commands())
        await wait_for(default_menu_set)
        assert "could not set the command menu" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        await running.stop()
