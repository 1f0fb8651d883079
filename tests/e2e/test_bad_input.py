"""Bad input gets a short answer in the member's language or a deliberate silence, never a crash
and never half a row in the database."""

from __future__ import annotations

from sqlmodel import select

from bot.services import members
from storage.enums import MemberStatus
from storage.models import AuditLog
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    decide,
    pick,
    press,
    said,
    silent,
    t,
)


async def at_name_step(person, lang: str = "ru") -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await said(person, t(lang, "Choose your language."))
    await press(person, pick("language", lang))
    await said(person, t(lang, "Please send your full name ("))


async def test_stickers_photos_and_voice_where_a_name_is_wanted(
    birge: Running, people: PersonFactory
) -> None:
    person = await people("Nurlan", "ru")
    await at_name_step(person)
    for kind in ("sticker", "photo", "voice"):
        await person.upload(kind, b"\x89PNG fake bytes" if kind == "photo" else b"data")
        await said(person, t("ru", "Please send text, not a file, sticker or voice message."))
    await person.send("Нурлан Абдылдаев")
    await said(person, t("ru", "What is your position?"))


async def test_a_ten_thousand_character_name_and_an_empty_one(
    birge: Running, people: PersonFactory
) -> None:
    person = await people("Nurlan", "ru")
    await at_name_step(person)
    await person.send("Н" * 10_000)
    await said(person, t("ru", "That is too long: at most {limit} characters.", limit=120))
    await person.send("   ")
    await said(person, t("ru", "Please send your full name in letters"))
    await person.send("12345 !!!")
    await said(person, t("ru", "Please send your full name in letters"))
    assert await members.by_telegram(birge.db, person.user_id) is None


async def test_unknown_commands_inside_and_outside_a_flow(
    birge: Running, people: PersonFactory
) -> None:
    person = await people("Nurlan", "ru")
    await person.send("/frobnicate")
    await said(person, t("ru", "I do not know that command."))
    await at_name_step(person)
    await person.send("/frobnicate")
    await said(person, t("ru", "Birge has no such command."))
    await said(person, t("ru", "Please send your full name (first name and surname)."))


async def test_text_or_a_photo_where_buttons_are_wanted_shows_the_question_again(
    birge: Running, people: PersonFactory
) -> None:
    person = await people("Nurlan", "ru")
    await at_name_step(person)
    await person.send("Нурлан Абдылдаев")
    await said(person, t("ru", "What is your position?"))
    await person.send("глава")
    await said(person, t("ru", "Please use the buttons."))
    await said(person, t("ru", "What is your position?"))
    await person.upload("photo", b"\x89PNG fake")
    await said(person, t("ru", "Please use the buttons."))


async def test_a_stranger_who_sends_a_sticker_is_invited_to_start(
    birge: Running, people: PersonFactory
) -> None:
    person = await people("Stranger", "ru")
    await person.upload("sticker", b"data")
    await said(person, t("ru", "Welcome! Send /start to join Birge."))


async def test_forged_and_stale_buttons(birge: Running, people: PersonFactory) -> None:
    db = birge.db
    person = await people("Nurlan", "ru")
    await at_name_step(person)
    message = person.last_bot_message()
    assert message is not None
    mid = int(message["message_id"])

    # A language button from the previous step is stale now.
    await person.press_data(mid, pick("language", "en"))
    assert t("ru", "This button is no longer active.") in str(await person.answer())
    # Garbage that is no Birge button at all.
    await person.press_data(mid, "garbage:🙂")
    assert t("ru", "This button is no longer active.") in str(await person.answer())

    await person.send("Нурлан Абдылдаев")
    await said(person, t("ru", "What is your position?"))
    await person.press_data(mid, pick("position", "king"))
    assert t("ru", "That choice is not available.") in str(await person.answer())
    await press(person, pick("position", "finance"))
    await said(person, t("ru", "Choose your region."))
    await person.press_data(mid, pick("region", 999_999))
    assert t("ru", "That choice is not available.") in str(await person.answer())
    # A district of another region is refused at the district step.
    leylek = await f.district_id(db, "leylek")
    talas = await f.district_id(db, "talas")
    await press(person, pick("region", await f.region_of(db, leylek)))
    await said(person, t("ru", "Choose your district."))
    await person.press_data(mid, pick("district", talas))
    assert t("ru", "That choice is not available.") in str(await person.answer())
    assert await members.by_telegram(db, person.user_id) is None


async def test_a_member_who_forges_an_approve_button_is_refused_and_logged(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    newcomer = await f.applicant(db, "Айгерим Садыкова", district="leylek")
    plain = await people("Asel", "ru")
    asel = await f.member(db, "Асель Маматова", telegram_id=plain.user_id, language="ru")
    await plain.send("/help")
    help_msg = await said(plain, t("ru", "What you can do in Birge:"))
    await plain.press_data(int(help_msg["message_id"]), decide("approve", newcomer.id))
    assert t("ru", "You are not allowed to do that.") in str(await plain.answer())
    still = await members.by_id(db, newcomer.id)
    assert still is not None and still.status == MemberStatus.PENDING
    async with db.read() as s:
        denied = (await s.exec(select(AuditLog).where(AuditLog.action == "denied"))).all()
    assert any(d.actor_id == asel.id for d in denied)
    # An id that does not exist at all.
    await plain.press_data(int(help_msg["message_id"]), decide("approve", 987_654))
    answer = str(await plain.answer())
    assert t("ru", "You are not allowed to do that.") in answer or t(
        "ru", "That item no longer exists.") in answer


async def test_groups_and_edited_messages_are_deliberately_ignored(
    birge: Running, people: PersonFactory, tg
) -> None:  # type: ignore[no-untyped-def]
    stranger = await people("Stranger", "ru")
    await tg.add_chat(-100_500, "Лейлек АО", type="supergroup")
    in_group = stranger.in_chat(-100_500)
    await in_group.send("Салам! Кто здесь?")
    await in_group.send("/start")
    await silent(in_group)
    sent = await stranger.send("/help")
    await said(stranger, t("ru", "/start — join Birge"))
    await stranger.edit(int(sent["message_id"]), "/help edited")
    await silent(stranger)


async def test_a_member_who_blocked_the_bot_is_marked_unreachable_and_nothing_breaks(
    birge: Running, people: PersonFactory
) -> None:
    from tests.e2e.conftest import outbox_rows, wait_for

    db = birge.db
    admin = await people("Staff", "ru")
    staff_id = await f.staff(db, admin.user_id, "Сотрудник", language="ru")
    person = await people("Nurlan", "ru")
    newcomer = await f.applicant(db, "Нурлан Абдылдаев", telegram_id=person.user_id)
    await person.block()
    await members.approve_member(db, staff_id, newcomer.id)

    async def unreachable() -> bool:
        rows = [r for r in await outbox_rows(db) if r.member_id == newcomer.id]
        return bool(rows) and rows[-1].status == "unreachable"

    await wait_for(unreachable)
    m = await members.by_id(db, newcomer.id)
    assert m is not None and not m.reachable
    # Writing to the bot again makes them reachable.
    await person.unblock()
    await person.send("/help")
    await said(person, t("ru", "What you can do in Birge:"))
    m = await members.by_id(db, newcomer.id)
    assert m is not None and m.reachable
