"""Conversation state and the outbox live in the database: a restart loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select, update

from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import EmulatorServer
from bot.services import members
from storage import inbox
from storage.db import Database
from storage.enums import MemberStatus, OutboxStatus
from storage.models import Outbox, Question
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    nav,
    pick,
    press,
    said,
    t,
    text_of,
    wait_for,
)
from tests.e2e.test_questions import NAME_STEP
from tests.replicas.cluster import Cluster, Replica

QUESTION = "Как утвердить местный бюджет, если кенеш не собрался вовремя на сессию?"


async def test_a_newcomer_continues_onboarding_after_the_bot_restarts(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    person = await people("Nurlan", "ky")
    leylek = await f.district_id(db, "leylek")
    await person.send("/start")
    await said(person, t("ky", "Choose your language."))
    await press(person, pick("language", "ky"))
    await said(person, t("ky", "Please send your full name ("))
    await person.send("Нурлан Абдылдаев")
    await said(person, t("ky", "What is your position?"))
    await press(person, pick("position", "deputy"))
    await said(person, t("ky", "Choose your region."))

    await birge.restart()
    db = birge.db

    # The region buttons on the old message still work, in Kyrgyz, with the answers kept.
    await press(person, pick("region", await f.region_of(db, leylek)))
    await said(person, t("ky", "Choose your district."))
    await press(person, pick("district", leylek))
    await said(person, t("ky", "Choose your municipality."))
    await press(person, pick("municipality", await f.municipality_id(db, "sumbula")))
    await said(person, t("ky", "Which practice communities"))
    await press(person, nav("done"))
    await said(person, t("ky", "To take part, Birge keeps your name"))
    await press(person, pick("consent", "yes"))
    await said(person, t("ky", "Thank you! Your application is waiting for approval"))
    member = await members.by_telegram(db, person.user_id)
    assert member is not None
    assert (member.full_name, member.position.value) == ("Нурлан Абдылдаев", "deputy")
    assert member.community_ids == {await f.community_id(db, "deputies")}


async def test_a_notice_caught_in_flight_by_a_crash_is_sent_after_the_restart(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    person = await people("Nurlan", "ru")
    admin = await f.staff(db)
    newcomer = await f.applicant(db, "Нурлан Абдылдаев", telegram_id=person.user_id)
    await birge.stop()
    # The process died after claiming the verdict but before sending it.
    await members.approve_member(db, admin, newcomer.id)
    async with db.transaction() as s:
        await s.exec(update(Outbox).where(Outbox.member_id == newcomer.id)  # type: ignore[call-overload]
                     .values(status=OutboxStatus.SENDING))
    await birge.start()
    await said(person, t("ru", "Your application has been approved. Welcome to Birge!"))
    m = await members.by_id(birge.db, newcomer.id)
    assert m is not None and m.status == MemberStatus.ACTIVE


async def test_after_a_kill_between_a_step_and_its_prompt_the_next_press_shows_the_step(
    birge: Running, people: PersonFactory
) -> None:
    """A SIGKILL after the handler saved the next step but before its prompt went out: the
    member still sees the old step's buttons. Pressing one shows the step they are on."""
    from aiogram.fsm.storage.base import StorageKey

    from bot.flows.ask_question import Ask
    from storage.fsm import SQLStorage

    db = birge.db
    person = await people("Asel", "ru")
    await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    await person.send("/ask")
    asked = await said(person, t("ru", "In which group do you want to ask?"))
    group = await f.group_id(db, "budget")
    await birge.stop()
    # What the group step's handler had written when the process died: the group, the next step.
    storage = SQLStorage(db)
    key = StorageKey(bot_id=123456, chat_id=person.user_id, user_id=person.user_id)
    await storage.set_state_and_data(key, Ask.text, {"ask": {"files": [], "group_id": group}})
    await birge.start()
    await person.press_data(int(asked["message_id"]), pick("qg", group))
    assert t("ru", "This button is no longer active.") in str(await person.answer())
    await said(person, t("ru", "Write your question: what happened"))
    await person.send("Как утвердить местный бюджет, если кенеш не собрался вовремя?")
    await said(person, t("ru", "You may attach up to {limit} documents or photos"))


async def _held(tg: EmulatorClient, count: int) -> None:
    """Wait until the emulator holds `count` injected timeouts in all (a handler is mid-way)."""
    async def holding() -> bool:
        return int((await tg.stats()).get("injected_failures", 0)) >= count
    await wait_for(holding, timeout=60)


async def _questions(db: Database, text: str) -> int:
    async with db.read() as s:
        return len((await s.exec(select(Question.id).where(Question.text == text))).all())


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_question_typed_while_birge_is_killed_mid_handler_is_handled_once_after_restart(
    server: EmulatorServer, tg: EmulatorClient, people: PersonFactory, db_url: str,
    tmp_path: Path, mode: str
) -> None:
    """Birge (a real `birge run` process, polling or behind a webhook) is SIGKILLed while the
    handler of a typed question waits on Telegram: the question is handled after the restart,
    once. Killed again after posting it, the restart does not post it twice."""
    db = Database(db_url)
    try:
        person = await people("Asel", "ru")
        await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
        group = await f.group_id(db, "budget")
        env = {"UPDATE_CLAIM_SECONDS": "2"} | ({"WEBHOOK_URL": ""} if mode == "polling" else {})
        cluster = Cluster(db_url, server.url, tmp_path, env)

        async def start() -> Replica:
            replica = cluster.start()
            if mode == "webhook":
                await cluster.ready(replica)
                server.emulator.webhook_backends = cluster.backends()
            return replica

        birge = await start()
        try:
            await person.send("/ask")
            await said(person, t("ru", "In which group do you want to ask?"), timeout=60)
            await press(person, pick("qg", group))
            await said(person, t("ru", "Write your question"))

            # The next prompt hangs on Telegram's side; Birge dies while it waits.
            await tg.fail(1, "timeout", methods=["sendMessage"], chat_id=person.user_id,
                          hold_seconds=30)
            await person.send(QUESTION)
            await _held(tg, 1)
            birge.kill()
            assert len(await inbox.unhandled(db)) == 1  # the question's update, kept
            assert await _questions(db, QUESTION) == 0

            birge = await start()
            await said(person, t("ru", "You may attach up to"), timeout=60)
            await press(person, nav("skip"))
            await said(person, t("ru", NAME_STEP))
            await press(person, pick("qa", "no"))
            await said(person, t("ru", "Check your question:"), QUESTION[:40])

            # Posted, and killed before the member is told: not posted again after the restart.
            await tg.fail(2, "timeout", methods=["sendMessage", "editMessageText"],
                          chat_id=person.user_id, hold_seconds=30)
            await press(person, pick("qc", "yes"))
            await _held(tg, 2)
            birge.kill()
            assert await _questions(db, QUESTION) == 1
            birge = await start()
            await person.send("/help")
            await said(person, "/ask", timeout=60)
            assert await _questions(db, QUESTION) == 1
            assert await inbox.unhandled(db) == []
            transcript = " ".join(text_of(m) for m in await person.transcript())
            assert t("ru", "Please send the files as documents") not in transcript
        finally:
            cluster.stop_all()
    finally:
        await db.dispose()
