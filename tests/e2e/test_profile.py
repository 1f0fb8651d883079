"""What a member does after joining: /profile edits, /language switches, /help by role, /start."""

from __future__ import annotations

from bot.services import members
from bot.views.callbacks import Menu
from storage.enums import Position
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, nav, pick, press, said, t


def menu(item: str) -> str:
    return Menu(item=item).pack()


async def test_a_finance_officer_in_leylek_corrects_her_name_and_moves_to_talas(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    person = await people("Asel", "ru")
    m = await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru",
                       position=Position.FINANCE, communities=("finance",))
    await person.send("/profile")
    await said(person, "Асель Маматова", t("ru", "Position: {value}",
                                            value=t("ru", "Finance officer")))
    await press(person, menu("edit_name"))
    await said(person, t("ru", "Please send your full name ("))
    await person.send("Асель Рыскулова")
    await said(person, t("ru", "Saved."), "Асель Рыскулова")

    talas = await f.district_id(db, "talas")
    await press(person, menu("edit_place"))
    await said(person, t("ru", "Choose your region."))
    await press(person, pick("region", await f.region_of(db, talas)))
    await said(person, t("ru", "Choose your district."))
    await press(person, nav("back"))
    await said(person, t("ru", "Choose your region."))
    await press(person, pick("region", await f.region_of(db, talas)))
    await said(person, t("ru", "Choose your district."))
    await press(person, pick("district", talas))
    await said(person, t("ru", "Choose your municipality."))
    await press(person, pick("municipality", await f.municipality_id(db, "omuraliev")))
    await said(person, t("ru", "Saved."), "Омуралиевский")
    after = await members.by_id(db, m.id)
    assert after is not None and after.full_name == "Асель Рыскулова"
    assert after.district_id == talas

    await press(person, menu("edit_communities"))
    await said(person, t("ru", "Which practice communities"))
    await press(person, pick("communities", await f.community_id(db, "heads")))
    await press(person, nav("done"))
    await said(person, t("ru", "Saved."), "Главы айыл окмоту")


async def test_language_switches_at_any_time(birge: Running, people: PersonFactory) -> None:
    person = await people("Kanat", "ru")
    await f.member(birge.db, "Канат Исаев", telegram_id=person.user_id, language="ru")
    await person.send("/language")
    await said(person, t("ru", "Choose your language."))
    await press(person, pick("setlang", "ky"))
    await said(person, t("ky", "Language changed: {language}.", language="Кыргызча"))
    await person.send("/help")
    await said(person, t("ky", "What you can do in Birge:"))
    # A newcomer mid-onboarding switches too, and the question is asked again in Kyrgyz.
    other = await people("Aibek", "ru")
    await other.send("/start")
    await said(other, t("ru", "Choose your language."))
    await press(other, pick("language", "ru"))
    await said(other, t("ru", "Please send your full name ("))
    await other.send("/language")
    await said(other, t("ru", "Choose your language."))
    await press(other, pick("setlang", "ky"))
    await said(other, t("ky", "Please send your full name ("))


async def test_help_lists_what_each_role_can_do(birge: Running, people: PersonFactory) -> None:
    db = birge.db
    plain = await people("Asel", "en")
    await f.member(db, "Asel Mamatova", telegram_id=plain.user_id, language="en")
    leader = await people("Gulnara", "en")
    await f.leader(db, "Gulnara Toktosunova", "leylek", "heads", telegram_id=leader.user_id,
                   language="en")
    boss = await people("Staff", "en")
    await f.staff(db, boss.user_id, "Union Staff", language="en")
    stranger = await people("Guest", "en")

    invite_line = t("en", "/invite — make an invitation link")
    admin_line = t("en", "As Union staff you can invite to any role")
    await plain.send("/help")
    msg = await said(plain, t("en", "What you can do in Birge:"))
    assert invite_line not in msg["text"] and admin_line not in msg["text"]
    await leader.send("/help")
    msg = await said(leader, invite_line)
    assert admin_line not in msg["text"]
    await boss.send("/help")
    await said(boss, invite_line, admin_line)
    await stranger.send("/help")
    await said(stranger, t("en", "/start — join Birge"))


async def test_start_opens_the_menu_for_members_and_tells_the_pending_to_wait(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    leader = await people("Gulnara", "ru")
    await f.leader(db, "Гулнара Токтосунова", "leylek", "heads", telegram_id=leader.user_id,
                   language="ru")
    waiting = await people("Nurlan", "ru")
    await f.applicant(db, "Нурлан Абдылдаев", telegram_id=waiting.user_id)
    await waiting.send("/start")
    await said(waiting, t("ru", "Your application is waiting for approval. You will"))
    await leader.send("/start")
    # The leader's menu says one newcomer waits (Russian plural form for 1).
    await said(leader, t("ru", "Hello, {name}! What would you like to do?",
                         name="Гулнара Токтосунова"), "1")
