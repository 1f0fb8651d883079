"""Onboarding through the real bot: a newcomer joins, the district leader approves, both hear."""

from __future__ import annotations

import pytest

from bot.services import members
from storage.enums import MemberStatus, Role
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    decide,
    nav,
    pick,
    press,
    said,
    silent,
    t,
    text_of,
)
from tests.e2e.journeys import join


async def test_a_head_of_ao_in_leylek_joins_in_russian_and_the_leylek_leader_approves(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    leader_person = await people("Gulnara", "ky")
    lead = await f.leader(db, "Гулнара Токтосунова", "leylek", "heads",
                          telegram_id=leader_person.user_id, language="ky")
    nurlan = await people("Nurlan", "ru")
    await join(nurlan, db, "ru")

    member = await members.by_telegram(db, nurlan.user_id)
    assert member is not None and member.status == MemberStatus.PENDING
    assert member.full_name == "Нурлан Абдылдаев"
    assert member.municipality_id == await f.municipality_id(db, "katran")
    assert member.community_ids == {await f.community_id(db, "heads")}

    # The leader's notice comes through the outbox, in the leader's own language (Kyrgyz).
    notice = await said(leader_person, "Нурлан Абдылдаев",
                        t("ky", "A newcomer asks to join Birge:"))
    assert decide("approve", member.id) in [data for _, data in buttons(notice)]
    await press(leader_person, decide("approve", member.id))
    await said(leader_person, t("ky", "✅ You approved {name}.", name="Нурлан Абдылдаев"))

    await said(nurlan, t("ru", "Your application has been approved. Welcome to Birge!"))
    approved = await members.by_id(db, member.id)
    assert approved is not None and approved.status == MemberStatus.ACTIVE

    # Approving twice (a double tap that raced the edit) is harmless.
    await leader_person.press_data(int(notice["message_id"]), decide("approve", member.id))
    await said(leader_person, t("ky", "{name} has already been decided on: {status}.",
                                name="Нурлан Абдылдаев", status=t("ky", "active")))
    await silent(nurlan)
    del lead


async def test_a_rejected_applicant_hears_it_in_their_language(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    staff_person = await people("Staff", "en")
    await f.staff(db, staff_person.user_id, "Union Staff", language="en")
    aizada = await people("Aizada", "ky")
    await join(aizada, db, "ky", name="Айзада Бекова", position="finance", district="talas",
               municipality="omuraliev")
    member = await members.by_telegram(db, aizada.user_id)
    assert member is not None
    await said(staff_person, "Айзада Бекова", t("en", "A newcomer asks to join Birge:"))
    await press(staff_person, decide("reject", member.id))
    await said(aizada, t("ky", "Your application was not approved."))


@pytest.mark.parametrize("lang", ["ky", "en"])
async def test_onboarding_speaks_the_newcomers_telegram_language(
    birge: Running, people: PersonFactory, lang: str
) -> None:
    person = await people("Kanat", lang)
    await person.send("/start")
    first = await said(person, t(lang, "Choose your language."))
    assert any(label.startswith("✅") for label, _ in buttons(first))
    await join(person, birge.db, lang, name="Kanat Isaev", start="/start")


async def test_an_unknown_telegram_language_starts_in_kyrgyz(
    birge: Running, people: PersonFactory
) -> None:
    person = await people("Hans", "de")
    await person.send("/start")
    await said(person, t("ky", "Choose your language."))


async def test_back_returns_to_the_previous_question_and_cancel_keeps_nothing(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    person = await people("Asel", "ru")
    await person.send("/start")
    await said(person, t("ru", "Choose your language."))
    await press(person, pick("language", "ru"))
    await said(person, t("ru", "Please send your full name ("))
    await person.send("Асель Маматова")
    await said(person, t("ru", "What is your position?"))
    await press(person, nav("back"))
    await said(person, t("ru", "Please send your full name ("), "Асель Маматова")
    await person.send("Асель Маматова")
    await said(person, t("ru", "What is your position?"))
    await press(person, pick("position", "finance"))
    await said(person, t("ru", "Choose your region."))
    await press(person, nav("cancel"))
    await said(person, t("ru", "Cancelled. Nothing about you has been kept."))
    assert await members.by_telegram(db, person.user_id) is None
    # The old buttons are dead now.
    await person.press_data(int((person.last_bot_message() or {})["message_id"]),
                            pick("position", "finance"))
    answer = await person.answer()
    assert answer is not None and t("ru", "This button is no longer active.") in str(answer)


async def test_refusing_consent_keeps_nothing(birge: Running, people: PersonFactory) -> None:
    db = birge.db
    person = await people("Bakyt", "ru")
    d = await f.district_id(db, "chatkal")
    await person.send("/start")
    await said(person, t("ru", "Choose your language."))
    await press(person, pick("language", "ru"))
    await said(person, t("ru", "Please send your full name ("))
    await person.send("Бакыт Осмонов")
    await said(person, t("ru", "What is your position?"))
    await press(person, pick("position", "deputy"))
    await said(person, t("ru", "Choose your region."))
    await press(person, pick("region", await f.region_of(db, d)))
    await said(person, t("ru", "Choose your district."))
    await press(person, pick("district", d))
    await said(person, t("ru", "Choose your municipality."))
    await press(person, pick("municipality", "other"))
    await said(person, t("ru", "Please send the name of your municipality."))
    await person.send("Сумсар")
    await said(person, t("ru", "Which practice communities"))
    await press(person, nav("done"))
    await said(person, t("ru", "To take part, Birge keeps your name"))
    await press(person, pick("consent", "no"))
    await said(person, t("ru", "Nothing about you has been kept."))
    assert await members.by_telegram(db, person.user_id) is None


async def test_a_state_body_liaison_in_bishkek_skips_district_and_municipality(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    from bot.services import reference

    bishkek = next(r for r in await reference.regions(db, "ru") if r.code == "bishkek-city")
    person = await people("Ermek", "ru")
    await person.send("/start")
    await said(person, t("ru", "Choose your language."))
    await press(person, pick("language", "ru"))
    await said(person, t("ru", "Please send your full name ("))
    await person.send("Эрмек Жумабаев")
    await said(person, t("ru", "What is your position?"))
    await press(person, pick("position", "state_body"))
    await said(person, t("ru", "Choose your region."))
    await press(person, pick("region", bishkek.id))
    await said(person, t("ru", "Which practice communities"))
    await press(person, nav("done"))
    await said(person, t("ru", "To take part, Birge keeps your name"))
    await press(person, pick("consent", "yes"))
    await said(person, t("ru", "Thank you!"))
    member = await members.by_telegram(db, person.user_id)
    assert member is not None and member.region_id == bishkek.id and member.district_id is None


async def test_a_staff_invite_link_approves_at_once_and_a_used_one_says_so(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    staff_person = await people("Staff", "ru")
    await f.staff(db, staff_person.user_id, "Сотрудник Союза", language="ru")
    leylek = await f.district_id(db, "leylek")
    heads = await f.community_id(db, "heads")

    await staff_person.send("/invite")
    await said(staff_person, t("ru", "Whom do you invite? Choose the role."))
    await press(staff_person, pick("i_role", Role.DISTRICT_LEADER.value))
    await said(staff_person, t("ru", "Choose the region."))
    await press(staff_person, pick("i_region", await f.region_of(db, leylek)))
    await said(staff_person, t("ru", "Choose the district."))
    await press(staff_person, pick("i_dist", leylek))
    await said(staff_person, t("ru", "Which practice community is the invitation for?"))
    await press(staff_person, pick("i_comm", heads))
    link_msg = await said(staff_person, "https://t.me/")
    code = text_of(link_msg).split("?start=")[1].split()[0]

    newcomer = await people("Kanat", "ru")
    await newcomer.send(f"/start {code}")
    await said(newcomer, t("ru", "Your invitation is valid: you will be approved at once."))
    await join(newcomer, db, "ru", name="Канат Исаев", start=f"/start {code}",
               expect="Welcome to Birge! Your invitation approved you at once.")
    member = await members.by_telegram(db, newcomer.user_id)
    assert member is not None and member.status == MemberStatus.ACTIVE
    assert Role.DISTRICT_LEADER in member.roles

    late = await people("Late", "ru")
    await late.send(f"/start {code}")
    await said(late, t("ru", "This invitation has already been used."))
    await said(late, t("ru", "Choose your language."))

    stranger = await people("Stranger", "ru")
    await stranger.send("/start no-such-code")
    await said(stranger, t("ru", "This invitation code is unknown."))


async def test_a_plain_member_cannot_make_invitations(birge: Running,
                                                      people: PersonFactory) -> None:
    person = await people("Asel", "ru")
    await f.member(birge.db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    await person.send("/invite")
    await said(person, t("ru", "You are not allowed to do that."))
