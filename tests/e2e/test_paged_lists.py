"""Lists that grow with `birge reference import` are paged (issue 13, item 7): a member walks
every page forward and back, a choice keeps its page, and a forged page is refused quietly."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.flows.dates import BISHKEK
from bot.sandbox.client import Person
from bot.services import groups, members, reference, survey_roles
from bot.views.events import EvL
from bot.views.people import Mu, Pe
from bot.views.surveys import Svr
from storage.db import Database
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import (
    JSON,
    PersonFactory,
    Running,
    buttons,
    nav,
    pick,
    press,
    said,
    t,
)
from tests.e2e.journeys import member

FORWARD, BACK = "➡️", "⬅️"
DATA = Path(__file__).resolve().parents[1] / "data"


async def import_places(db: Database, rows: list[str]) -> None:
    header = "kind,code,parent,name_ky,name_ru,name_en,sort,extra\n"
    await reference.import_reference(db, header + "\n".join(rows) + "\n")


async def many_communities(db: Database, count: int = 22) -> list[str]:
    """`count` more practice communities; their Russian names."""
    names = [f"Сообщество практики номер {i:02d}" for i in range(1, count + 1)]
    await import_places(db, [f"community,cop-{i:02d},,Коомчулук {i:02d},{name},Community {i:02d},"
                             f"{100 + i}," for i, name in enumerate(names, 1)])
    return names


async def big_district(db: Database, municipalities: int) -> tuple[int, int]:
    """A new district of the Talas region with that many municipalities ("big-01", …):
    (the region's id, the district's id)."""
    region = await f.region_of(db, await f.district_id(db, "talas"))
    code = next(r.code for r in await reference.regions(db, "ru") if r.id == region)
    await import_places(db, [f"district,big-district,{code},Чоң району,Большой район,"
                             "Big District,99,"] + [
        f"municipality,big-{i:02d},big-district,Айыл {i:02d} аймагы,Айылный аймак {i:02d},"
        f"Aiyl aimak {i:02d},{i},aiyl_aimak" for i in range(1, municipalities + 1)])
    return region, await f.district_id(db, "big-district")


def choices(message: JSON, marker: str) -> list[str]:
    """The labels of the choices containing `marker` (not the arrows, the page counter, Back or
    Cancel)."""
    return [label for label, _data in buttons(message) if marker in label
            and label not in (FORWARD, BACK) and not re.fullmatch(r"\d+/\d+", label)
            and not label.startswith(("⬅️ ", "✖️ "))]


def arrow(message: JSON, which: str) -> str | None:
    return next((data for label, data in buttons(message) if label == which), None)


async def turn(person: Person, message: JSON, which: str, prompt: str) -> JSON:
    data = arrow(message, which)
    assert data is not None, f"no {which} on {[label for label, _ in buttons(message)]}"
    await person.press_data(int(message["message_id"]), data)
    return await said(person, prompt)


async def walk(person: Person, first: JSON, prompt: str, marker: str) -> list[list[str]]:
    """Every page forward (following ➡️), then back to the first (following ⬅️): the labels
    containing `marker` on each page, checking the way back shows the same pages."""
    assert arrow(first, BACK) is None
    pages = [choices(first, marker)]
    message = first
    while arrow(message, FORWARD) is not None:
        message = await turn(person, message, FORWARD, prompt)
        pages.append(choices(message, marker))
    back = [pages[-1]]
    while arrow(message, BACK) is not None:
        message = await turn(person, message, BACK, prompt)
        back.append(choices(message, marker))
    assert back == pages[::-1]
    assert len({label for page in pages for label in page}) == sum(len(p) for p in pages)
    return pages


async def forged_pages_are_refused(person: Person, message: JSON, forged: list[str]) -> None:
    """Each forged page on `message`: a short "no longer active", the message unchanged and
    nothing new in the chat."""
    await person.replies(timeout=0.3, settle_ms=300)  # the page turns' edits, if still coming
    for data in forged:
        await person.press_data(int(message["message_id"]), data)
        answer = await person.answer()
        assert answer is not None and t("ru", "This button is no longer active.") in str(
            answer), (data, answer)
    assert await person.replies(timeout=0.5) == []


# --- onboarding -------------------------------------------------------------------------------


async def test_joining_pages_a_district_with_thirty_municipalities(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    talas_region, big = await big_district(db, 30)
    person = await people("Aizada", "ru")
    await person.send("/start")
    await said(person, t("ru", "Choose your language."))
    await press(person, pick("language", "ru"))
    await said(person, t("ru", "Please send your full name ("))
    await person.send("Айзада Токтосунова")
    await said(person, t("ru", "What is your position?"))
    await press(person, pick("position", "finance"))
    await said(person, t("ru", "Choose your region."))
    await press(person, pick("region", talas_region))
    await said(person, t("ru", "Choose your district."))
    await press(person, pick("district", big))
    first = await said(person, t("ru", "Choose your municipality."))

    pages = await walk(person, first, t("ru", "Choose your municipality."), "Айылный аймак")
    assert len(pages) == 4  # 30 in pages of 8
    assert sorted(label for page in pages for label in page) == [
        f"Айылный аймак {i:02d}" for i in range(1, 31)]
    assert t("ru", "Not in the list") in [label for label, _ in buttons(first)]
    await forged_pages_are_refused(person, first, [
        pick("municipality", "page4"), pick("municipality", "page99999999"),
        pick("municipality", "page²"), pick("municipality", "page-1"),
        pick("municipality", "page")])

    third = await turn(person, first, FORWARD, t("ru", "Choose your municipality."))
    third = await turn(person, third, FORWARD, t("ru", "Choose your municipality."))
    await press(person, pick("municipality", await f.municipality_id(db, "big-20")))
    await said(person, t("ru", "Which practice communities"))
    await press(person, nav("done"))
    await said(person, t("ru", "Please check your answers:"), "Айылный аймак 20")


async def test_joining_pages_the_practice_communities_and_keeps_the_page_on_a_tap(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    names = await many_communities(db)
    bishkek = next(r for r in await _regions(db) if r.kind == "city")
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
    prompt = t("ru", "Which practice communities")
    first = await said(person, prompt)
    pages = await walk(person, first, prompt, "▫️")
    assert len(pages) == 4  # 4 + 22 communities
    shown = {label.removeprefix("▫️ ") for page in pages for label in page}
    assert set(names) <= shown
    await forged_pages_are_refused(person, first, [
        pick("communities", "page4"), pick("communities", "page٣")])

    second = await turn(person, first, FORWARD, prompt)
    third = await turn(person, second, FORWARD, prompt)
    wanted = next(data for label, data in buttons(third) if label.startswith("▫️"))
    await person.press_data(int(third["message_id"]), wanted)
    again = await said(person, prompt)
    assert choices(again, "✅") and "3/4" in [label for label, _ in buttons(again)]
    await press(person, nav("done"))
    await said(person, t("ru", "Please check your answers:"))
    await press(person, pick("consent", "yes"))
    await said(person, t("ru", "Thank you!"))
    joined = await members.by_telegram(db, person.user_id)
    assert joined is not None and len(joined.community_ids) == 1


async def _regions(db: Database) -> list[reference.Place]:
    return await reference.regions(db, "ru")


# --- the audience in the compose flows --------------------------------------------------------


async def _event_to_place(boss: Person, kind: str) -> None:
    await boss.send("/events")
    await said(boss, t("ru", "Events: webinars"))
    await press(boss, EvL(view="new").pack())
    await said(boss, t("ru", "New event. What kind is it?"))
    await press(boss, pick("ek", kind))
    for text in ("Жергиликтүү бюджет", "Местный бюджет"):
        await said(boss, t("ru", "Send the event's title in {language}"))
        await boss.send(text)
    await said(boss, t("ru", "Send the event's title in {language}"), "English")
    await press(boss, nav("skip"))
    for text in ("Бюджет боюнча вебинар.", "Вебинар о бюджете."):
        await said(boss, t("ru", "Send the event's description in {language}"))
        await boss.send(text)
    await said(boss, t("ru", "Send the event's description in {language}"), "English")
    await press(boss, nav("skip"))
    calendar = await said(boss, t("ru", "Which day does it start?"))
    day = utcnow().astimezone(BISHKEK).date() + timedelta(days=3)
    await boss.press_data(int(calendar["message_id"]), pick("edd", f"{day:%Y-%m}-{day.day}"))
    await said(boss, t("ru", "At what time does it start?"))
    await press(boss, pick("et", "1000"))
    await said(boss, t("ru", "When does it end?"))
    await press(boss, pick("el", "120"))
    await said(boss, t("ru", "Where? Send the address, or the online link"))


async def _event_to_audience(boss: Person) -> JSON:
    await _event_to_place(boss, "webinar")
    await boss.send("https://zoom.us/j/777")
    await said(boss, t("ru", "How many participants at most?"))
    await boss.send("30")
    await said(boss, t("ru", "At most how many from one district?"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Until when is registration open?"))
    await press(boss, pick("eu", "1"))
    return await said(boss, t("ru", "Whom do you invite? Now"))


async def _broadcast_to_audience(boss: Person) -> JSON:
    await boss.send("/broadcast")
    await said(boss, t("ru", "New broadcast. What kind is it?"))
    await press(boss, pick("bk", "news"))
    await said(boss, t("ru", "Send the title on two or three lines"))
    await boss.send("Жаңылыктар\nНовости Союза")
    for text in ("Союздун жаңылыктары.", "Новости Союза."):
        await said(boss, t("ru", "Send the text in {language}"))
        await boss.send(text)
    await said(boss, t("ru", "Send the text in {language}"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send documents to attach"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send the link to the source"))
    await press(boss, nav("skip"))
    return await said(boss, t("ru", "Who should receive it?"))


async def test_a_broadcast_audience_pages_the_communities_and_the_districts(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    names = await many_communities(db)
    chuy = next(r for r in await _regions(db) if r.code == "chuy")
    await import_places(db, [f"district,chuy-{i:02d},chuy,Район {i:02d},Район Чуй {i:02d},"
                             f"Chuy district {i:02d},{50 + i}," for i in range(1, 15)])
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    menu = await _broadcast_to_audience(boss)
    prompt = t("ru", "Tap to choose, then go back to the audience.")

    await boss.press_data(int(menu["message_id"]), pick("ba", "communities"))
    first = await said(boss, prompt)
    pages = await walk(boss, first, prompt, "▫️")
    assert len(pages) == 3  # 26 communities, ten a page
    assert set(names) <= {label.removeprefix("▫️ ") for page in pages for label in page}
    await forged_pages_are_refused(boss, first, [
        pick("bg_comm", 3), pick("bg_comm", 100001), pick("bg_comm", "²"),
        pick("bg_comm", "-1"), pick("bg_zz", 1), pick("bg_dist_999999", 0), pick("bg_", 1)])

    last = await turn(boss, await turn(boss, first, FORWARD, prompt), FORWARD, prompt)
    tapped_label, tapped = next((label, data) for label, data in buttons(last)
                                if label.startswith("▫️"))
    await boss.press_data(int(last["message_id"]), tapped)
    again = await said(boss, prompt)
    assert "✅ " + tapped_label.removeprefix("▫️ ") in choices(again, "✅")
    assert "3/3" in [label for label, _ in buttons(again)]  # still on the page it was tapped on

    await press(boss, pick("ba", "menu"))
    await said(boss, t("ru", "Who should receive it?"), tapped_label.removeprefix("▫️ "))
    await press(boss, pick("ba", "districts"))
    await said(boss, t("ru", "Districts of which region?"))
    await press(boss, pick("bdr", chuy.id))
    first = await said(boss, prompt)
    pages = await walk(boss, first, prompt, "Район")
    assert len(pages) == 3  # 8 + 14 districts of Chuy
    await forged_pages_are_refused(boss, first, [
        pick(f"bg_dist_{chuy.id}", 3), pick("bdr", 999999999), pick("bdr", "x")])


async def test_an_event_audience_pages_the_communities(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    await many_communities(db)
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    menu = await _event_to_audience(boss)
    prompt = t("ru", "Tap to choose, then go back to the audience.")
    await boss.press_data(int(menu["message_id"]), pick("ea", "communities"))
    first = await said(boss, prompt)
    assert len(await walk(boss, first, prompt, "▫️")) == 3
    await forged_pages_are_refused(boss, first, [
        pick("eg_comm", 3), pick("eg_comm", "٣"), pick("eg_rol", 1)])


async def test_a_survey_audience_pages_the_communities(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    await many_communities(db)
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await boss.send("/surveys")
    await said(boss, t("ru", "No open surveys for you now."))
    await boss.press(Svr(action="import", survey_id=0).pack())
    await said(boss, t("ru", "Send the XLSForm file").split("<")[0])
    await boss.upload("document", (DATA / "needs_survey.xlsx").read_bytes(),
                      filename="needs.xlsx")
    await said(boss, t("ru", "Send the title: the first line"))
    await boss.send("Муктаждыктарды изилдөө\nИзучение потребностей")
    await said(boss, t("ru", "Send the introduction"))
    await boss.send("Сурамжылоого катышыңыз.\n\nПримите участие в опросе.")
    await said(boss, t("ru", "How do members answer?"))
    await boss.press(pick("so", "anonymous"))
    menu = await said(boss, t("ru", "Who should receive it?"))
    prompt = t("ru", "Tap to choose, then go back to the audience.")
    await boss.press_data(int(menu["message_id"]), pick("sa", "communities"))
    first = await said(boss, prompt)
    assert len(await walk(boss, first, prompt, "▫️")) == 3
    await forged_pages_are_refused(boss, first, [
        pick("sg_comm", 3), pick("sg_comm", "0x1"), pick("sg_lang", 1)])
    third = await turn(boss, await turn(boss, first, FORWARD, prompt), FORWARD, prompt)
    await boss.press_data(int(third["message_id"]),
                          next(data for label, data in buttons(third) if label.startswith("▫️")))
    again = await said(boss, prompt)
    assert len(choices(again, "✅")) == 1 and "3/3" in [label for label, _ in buttons(again)]


async def test_a_quick_poll_pages_the_topic_groups_to_send_it_to(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    made = [await groups.create_group(db, staff_id, {"ky": f"Топ {i:02d}",
                                                     "ru": f"Группа по теме {i:02d}"})
            for i in range(1, 21)]
    offered = await survey_roles.group_choices(db, staff_id, "ru")
    assert set(made) <= {gid for gid, _name, _thread in offered}
    await boss.send("/surveys")
    await said(boss, t("ru", "No open surveys for you now."))
    await boss.press(Svr(action="poll", survey_id=0).pack())
    prompt = t("ru", "Who is it for?")
    first = await said(boss, prompt)
    pages = await walk(boss, first, prompt, "👥 Группа по теме")
    everything = [label for page in pages for label in page]
    assert len(pages) >= 3
    assert {f"👥 Группа по теме {i:02d}" for i in range(1, 21)} <= set(everything)
    await forged_pages_are_refused(boss, first, [
        pick("sg", f"page{len(pages)}"), pick("sg", "page٢"), pick("sg", "page99999999999")])
    last = first
    while arrow(last, FORWARD) is not None:
        last = await turn(boss, last, FORWARD, prompt)
    await press(boss, pick("sg", f"g{made[-1]}"))
    await said(boss, t("ru", "Send the title: the first line"))


async def test_the_host_of_an_exchange_visit_is_found_among_thirty_municipalities(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    talas_region, big = await big_district(db, 40)
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await _event_to_place(boss, "exchange")
    await boss.send("Талас, айыл өкмөтүнүн имараты")
    prompt = t("ru", "Which municipality hosts the exchange visit?")
    await said(boss, prompt)
    await press(boss, pick("ehr", talas_region))
    await said(boss, prompt)
    await press(boss, pick("ehd", big))
    first = await said(boss, prompt)
    pages = await walk(boss, first, prompt, "Айылный аймак")
    assert len(pages) == 3  # 40 municipalities, sixteen a page
    await forged_pages_are_refused(boss, first, [
        pick("ehg", f"{big}_3"), pick("ehg", "999999_0"), pick("ehg", f"{big}_x"),
        pick("ehg", "")])
    await turn(boss, await turn(boss, first, FORWARD, prompt), FORWARD, prompt)
    await press(boss, pick("ehm", await f.municipality_id(db, "big-40")))
    await said(boss, t("ru", "How many participants at most?"))


async def test_an_invitation_pages_the_practice_communities(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    names = await many_communities(db)
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    leylek = await f.district_id(db, "leylek")
    await boss.send("/invite")
    await said(boss, t("ru", "Whom do you invite? Choose the role."))
    await press(boss, pick("i_role", "member"))
    await said(boss, t("ru", "Choose the region."))
    await press(boss, pick("i_region", await f.region_of(db, leylek)))
    await said(boss, t("ru", "Choose the district."))
    await press(boss, pick("i_dist", leylek))
    prompt = t("ru", "Which practice community is the invitation for?")
    first = await said(boss, prompt)
    pages = await walk(boss, first, prompt, "")
    offered = {label for page in pages for label in page}
    assert len(pages) == 4 and set(names) <= offered  # 26 communities and "Any", eight a page
    assert t("ru", "Any community") in pages[-1]
    await forged_pages_are_refused(boss, first, [
        pick("i_cpage", 4), pick("i_cpage", "²"), pick("i_cpage", "-1")])
    last = first
    while arrow(last, FORWARD) is not None:
        last = await turn(boss, last, FORWARD, prompt)
    wanted = await f.community_id(db, "cop-22")
    await press(boss, pick("i_comm", wanted))
    await said(boss, "https://t.me/")


async def test_the_member_directory_pages_the_municipalities_and_communities_to_filter_by(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    _region, big = await big_district(db, 25)
    await many_communities(db)
    asel, _asel_id = await member(people, birge, "Асель Маматова", "ru", "talas")
    await asel.send("/people")
    directory = await said(asel, t("ru", "Member directory"))
    await asel.press_data(int(directory["message_id"]), Pe(action="fm", value=f"d{big}").pack())
    prompt = t("ru", "Choose a municipality.")
    first = await said(asel, prompt)
    pages = await walk(asel, first, prompt, "Айылный аймак")
    assert len(pages) == 3 and len({m for page in pages for m in page}) == 25
    await forged_pages_are_refused(asel, first, [
        Pe(action="fm", id=3, value=f"d{big}").pack(),
        Pe(action="fm", id=2**40, value=f"d{big}").pack()])
    last = await turn(asel, await turn(asel, first, FORWARD, prompt), FORWARD, prompt)
    assert "Айылный аймак 25" in choices(last, "Айылный")
    await asel.press_data(int(last["message_id"]), Pe(action="fc", value=f"d{big}").pack())
    prompt = t("ru", "Choose a practice community.")
    first = await said(asel, prompt)
    assert len(await walk(asel, first, prompt, "Сообщество практики")) == 3  # 26, ten a page
    await forged_pages_are_refused(asel, first, [Pe(action="fc", id=3, value=f"d{big}").pack()])


async def test_the_issue_list_pages_the_state_bodies_to_filter_by(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    await import_places(db, [f"state_body,agency-{i:02d},,Агенттик {i:02d},Агентство {i:02d},"
                             f"Agency {i:02d},{200 + i}," for i in range(1, 11)])
    bodies = await reference.state_bodies(db, "ru")
    assert len(bodies) == 24
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ru")
    await bakyt.send("/issues")
    listing = await said(bakyt, t("ru", "National issues"))
    body_filter = next(data for _label, data in buttons(listing) if data.startswith("i:fb:"))
    await bakyt.press_data(int(listing["message_id"]), body_filter)
    prompt = t("ru", "Choose a filter:")
    first = await said(bakyt, prompt)
    pages = await walk(bakyt, first, prompt, "")
    assert len(pages) == 3 and len({label for page in pages for label in page}) == 24
    assert "Агентство 10" in pages[-1]
    await forged_pages_are_refused(bakyt, first, [
        body_filter.replace("i:fb:0:", "i:fb:3:"), body_filter.replace("i:fb:0:", "i:fb:٢:")])


async def test_staff_page_through_pending_names_and_the_places_to_merge_them_into(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    _region, _big = await big_district(db, 25)
    surnames = [a + b for a in ("Ас", "Бак", "Жум", "Кад", "Мам", "Нур", "Ос", "Сад", "Ток",
                                "Чын") for b in ("анов", "ыров")]
    for i, surname in enumerate(surnames, 1):
        await f.applicant(db, f"Айбек {surname}", district="big-district",
                          municipality_other=f"Новое село {i:02d}")
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await boss.send("/places")
    prompt = t("ru", "New names typed by members")
    first = await said(boss, prompt)
    pages = await walk(boss, first, prompt, "Новое село")
    assert len(pages) == 3 and len({n for page in pages for n in page}) == 20
    await forged_pages_are_refused(boss, first, [
        Mu(action="list", id=3).pack(), Mu(action="list", id=2**62).pack()])
    last = await turn(boss, await turn(boss, first, FORWARD, prompt), FORWARD, prompt)
    source = next(data for label, data in buttons(last) if label.startswith("Новое село"))
    await boss.press_data(int(last["message_id"]), source)
    card = await said(boss, t("ru", "Confirm it as a new municipality"))
    merge = next(data for _label, data in buttons(card) if data.startswith("mu:mg:"))
    await boss.press_data(int(card["message_id"]), merge)
    prompt = t("ru", "Merge it into which municipality?")
    first = await said(boss, prompt)
    assert len(await walk(boss, first, prompt, "Айылный аймак")) >= 3  # 25, eight a page
    source_id = int(merge.split(":")[2])
    await forged_pages_are_refused(boss, first, [
        Mu(action="mg", id=source_id, value=99).pack()])
