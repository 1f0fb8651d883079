"""People, places and personal data through the real bot: a finance officer finds the Leylek
leader of finance officers and writes to her; a newcomer's typed municipality is matched, a
duplicate is merged by the district leader; a member downloads their data and deletes their
account; a community's question never reaches the shared forum."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import String, cast, inspect, select, text
from sqlmodel import SQLModel

from bot.sandbox.client import EmulatorClient, Person
from bot.services import broadcasts, legal, privacy, questions
from bot.services import national_issues as ni
from bot.services import people as directory
from bot.services.broadcasts import Audience, Draft
from bot.services.forums import forums_of
from bot.views.people import Mu, Pe, Pv
from storage.enums import BroadcastKind, LegalCategory, MunicipalityStatus, Position
from storage.models import Member, Municipality, NationalIssue, Outbox
from storage.types import utcnow
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
from tests.e2e.journeys import member
from tests.survey_helpers import answer_all
from tests.survey_helpers import create as create_survey


def pe(action: str, oid: int = 0, value: str = "") -> str:
    return Pe(action=action, id=oid, value=value).pack()


# --- 1. the member directory -----------------------------------------------------------------


async def test_a_finance_officer_finds_the_leylek_leader_and_writes_to_her(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    leylek = await f.district_id(db, "leylek")
    finance = await f.community_id(db, "finance")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "talas",
                                 position=Position.FINANCE, communities=("finance",))
    jyldyz = await people("Жылдыз", "ru", username="jyldyz_k")
    lead = await f.leader(db, "Жылдыз Касымова", "leylek", "finance", telegram_id=jyldyz.user_id,
                          username="jyldyz_k", language="ru", position=Position.FINANCE)
    await said(jyldyz, t("ru", "Your application has been approved."))
    hidden = await f.member(db, "Бакыт Абдылдаев", district="leylek", communities=("finance",))
    await f.member(db, "Айбек Алиев", district="leylek", communities=("finance",))
    await pe_set_hidden(birge, hidden.id)

    await asel.send("/people")
    await said(asel, t("ru", "Member directory"))
    talas = await f.district_id(db, "talas")
    await press(asel, pe("fr", value=f"d{talas}"))
    await said(asel, t("ru", "Choose a region."))
    await press(asel, pe("fd", await f.region_of(db, leylek), f"d{talas}"))
    await said(asel, t("ru", "Choose a district."))
    await press(asel, pe("sd", leylek, f"d{talas}"))
    await said(asel, t("ru", "Member directory"), "Айбек Алиев")
    await press(asel, pe("fc", value=f"d{leylek}"))
    await said(asel, t("ru", "Choose a practice community."))
    await press(asel, pe("sc", finance, f"d{leylek}"))
    found = await said(asel, t("ru", "Found: {count}", count=2))
    listing = text_of(found)
    assert listing.index("⭐ Жылдыз Касымова") < listing.index("Айбек Алиев")
    assert "Бакыт Абдылдаев" not in listing  # chose to hide

    # The card: no username until she chooses to show it.
    packed = f"d{leylek}.c{finance}"
    await press(asel, pe("o", lead.id, packed))
    card = await said(asel, "Жылдыз Касымова", t("ru", "Position: {value}"))
    assert "jyldyz_k" not in text_of(card)
    await people_listing(birge, lead.id, show_username=True)
    await press(asel, pe("pg", 0, packed))
    await said(asel, t("ru", "Member directory"))
    await press(asel, pe("o", lead.id, packed))
    assert "@jyldyz_k" in text_of(await said(asel, "Жылдыз Касымова"))

    # Bad input while writing: 10,000 characters, a forbidden file, a command.
    await press(asel, pe("w", lead.id))
    await said(asel, t("ru", "Your message to {name}"))
    await asel.send("ж" * 10_000)
    await said(asel, t("ru", "Please send a message of 1 to {limit} characters"))
    await asel.upload("document", b"MZ", filename="virus.exe")
    await said(asel, t("ru", "This type of file is not accepted."))
    await asel.upload("sticker", b"sticker")
    await said(asel, t("ru", "Please send text, a document or a photo."))
    await asel.send("/settings_x")  # a command is never the message (bot/flows/guard.py)
    await said(asel, t("ru", "Birge has no such command."))
    await asel.send("Жылдыз эже, бюджетти кантип түзөсүздөр?")
    await said(asel, t("ru", "Sent. They see your name and can answer you here."))
    got = await said(jyldyz, t("ru", "A message from {who}:"), "Асель Маматова",
                     "бюджетти кантип")
    assert "@" not in text_of(got)  # never Asel's contacts

    # She answers, then blocks.
    await press(jyldyz, pe("r", asel_id))
    await said(jyldyz, t("ru", "Your message to {name}"))
    await jyldyz.send("Эртең чалыңыз.")
    await said(jyldyz, t("ru", "Sent."))
    await said(asel, t("ru", "A reply from {who}:"), "Жылдыз Касымова", "Эртең чалыңыз.")
    await press(jyldyz, pe("bl", asel_id))
    blocked = await jyldyz.answer(timeout=3)
    assert blocked is not None
    await press(asel, pe("r", lead.id))  # on the reply she got
    answer = await asel.answer(timeout=3)
    assert answer is not None and t("ru", "This member does not take messages from you.") in \
        str(answer.get("text"))

    # Search with quotes and operators finds nothing and breaks nothing; 2,000 characters are
    # refused with the limit.
    await asel.send("/people")
    await said(asel, t("ru", "Member directory"))
    packed = f"d{talas}"
    await press(asel, pe("q", 0, packed))
    await said(asel, t("ru", "Send a name or part of it"))
    await asel.send('"Жылдыз" OR 1=1; DROP TABLE member; NEAR(*)')
    await said(asel, t("ru", "Nobody matches."))
    await press(asel, pe("q", 0, packed))
    await asel.send("ж" * 2000)
    await said(asel, t("ru", "Please send at most {limit} characters of a name.",
                       limit=directory.QUERY_MAX))
    await asel.send("/people")
    await said(asel, t("ru", "Member directory"))
    await press(asel, pe("f"))  # clear the filters: the whole directory
    await said(asel, t("ru", "Member directory"))
    await press(asel, pe("q"))
    await said(asel, t("ru", "Send a name or part of it"))
    await asel.send("касым")
    await said(asel, "Жылдыз Касымова", t("ru", "Found: {count}", count=1))

    # Staff see the hidden member too.
    boss = await people_fixture(people, "Айгерим")
    await f.staff(db, boss.user_id, "Айгерим Касымова", language="ru")
    await boss.send("/people")
    shown = await said(boss, t("ru", "Member directory"))
    await boss.press_data(shown["message_id"], pe("sd", leylek))
    await said(boss, "Бакыт Абдылдаев")


async def people_fixture(factory: PersonFactory, name: str) -> Person:
    return await factory(name, "ru")


async def pe_set_hidden(birge: Running, member_id: int) -> None:
    await directory.set_listing(birge.db, member_id, hidden=True)


async def people_listing(birge: Running, member_id: int, **kw: bool) -> None:
    await directory.set_listing(birge.db, member_id, **kw)


async def test_a_member_hides_from_the_directory_in_settings_and_shows_her_phone(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    bakyt, _bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "leylek")
    await asel.send("/settings")
    await said(asel, t("ru", "Settings"))
    await press(asel, pe("ls"))
    await said(asel, t("ru", "Listed: colleagues find you in /people."))
    await press(asel, pe("lh", 1))
    await said(asel, t("ru", "Hidden: colleagues do not find you in /people"))
    await bakyt.send("/people")
    assert "Асель Маматова" not in text_of(await said(bakyt, t("ru", "Member directory")))
    # Her own contact becomes the phone her card may show; someone else's is refused.
    await asel.upload("contact", phone_number="+996555123456", first_name="Асель",
                      contact_user_id=asel.user_id)
    await said(asel, t("ru", "Your phone is saved."))
    await press(asel, pe("lh", 0))
    await said(asel, t("ru", "Listed: colleagues find you in /people."))
    await press(asel, pe("lp", 1))
    await said(asel, t("ru", "Listed: colleagues find you in /people."))
    card = await directory.card(db, _bakyt_id, asel_id, "ru")
    assert card.phone == "+996555123456"
    await asel.upload("contact", phone_number="+996555000000", first_name="Бакыт",
                      contact_user_id=bakyt.user_id)
    await said(asel, t("ru", "Please share your own contact."))


# --- 2. one name per municipality ------------------------------------------------------------


async def test_a_typed_municipality_is_matched_and_a_duplicate_is_merged_once(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    toktogul = await f.district_id(db, "toktogul")
    kara_kul = await f.municipality_id(db, "kara-kul")
    lead_person = await people("Канат", "ru")
    lead = await f.leader(db, "Канат Бейшеев", "toktogul", "heads", telegram_id=lead_person.user_id,
                          language="ru", municipality="kara-kul")
    await said(lead_person, t("ru", "Your application has been approved."))

    newcomer = await people("Нурлан", "ru")
    await newcomer.send("/start")
    await said(newcomer, t("ru", "Choose your language."))
    await press(newcomer, pick("language", "ru"))
    await said(newcomer, t("ru", "Please send your full name (first name and surname)."))
    await newcomer.send("Нурлан Абдылдаев")
    await said(newcomer, t("ru", "What is your position?"))
    await press(newcomer, pick("position", "head_ao"))
    await said(newcomer, t("ru", "Choose your region."))
    await press(newcomer, pick("region", await f.region_of(db, toktogul)))
    await said(newcomer, t("ru", "Choose your district."))
    await press(newcomer, pick("district", toktogul))
    await said(newcomer, t("ru", "Choose your municipality."))
    await press(newcomer, pick("municipality", "other"))
    await said(newcomer, t("ru", "Please send the name of your municipality."))
    await newcomer.send("К")
    await said(newcomer, t("ru", "Please send the name of a municipality: 2 to {limit}",
                           limit=120))
    await newcomer.send("К" * 300)
    await said(newcomer, t("ru", "Please send the name of a municipality: 2 to {limit}",
                           limit=120))
    await newcomer.send("Карак-Куль")  # a typo: close to Kara-Kul, not the same letters
    offer = await said(newcomer, t("ru", "Is it one of these municipalities of your district?"))
    assert any(str(kara_kul) in (b.get("callback_data") or "")
               for row in offer["reply_markup"]["inline_keyboard"] for b in row)
    # He insists on his own spelling: it becomes a pending name.
    await press(newcomer, pick("municipality_other", "other"))
    await said(newcomer, t("ru", "Which practice communities do you want to join?"))
    await press(newcomer, nav("done"))
    await said(newcomer, t("ru", "To take part, Birge keeps your name"))
    await press(newcomer, pick("consent", "yes"))
    await said(newcomer, t("ru", "Thank you! Your application is waiting for approval"))
    async with db.read() as s:
        m = (await s.exec(select(Member).where(
            Member.full_name == "Нурлан Абдылдаев"))).scalars().one()
        pending = await s.get(Municipality, m.municipality_id)
        assert pending is not None and pending.status == MunicipalityStatus.PENDING
        assert m.municipality_other is None
    pending_id = pending.id
    assert pending_id is not None

    # The leader hears of the name; an issue from Kara-Kul is co-signed from both spellings.
    await said(lead_person, t("ru", "A new municipality name in {district}"), "Карак-Куль")
    from bot.services import members as members_service

    await members_service.approve_member(db, lead.id, m.id or 0)
    issue = await f.national_issue(db, lead.id)
    assert issue.id is not None
    await ni.cosign(db, m.id or 0, issue.id)
    async with db.read() as s:
        before = await s.get(NationalIssue, issue.id)
        assert before is not None and before.municipalities_count == 2

    # Merging into itself (a forged button) is refused; merging into Kara-Kul counts it once.
    await lead_person.send("/places")
    await said(lead_person, t("ru", "New names typed by members"), "Карак-Куль")
    await press(lead_person, Mu(action="o", id=pending_id).pack())
    shown = await said(lead_person, t("ru", "Confirm it as a new municipality"))
    await lead_person.press_data(shown["message_id"],
                                 Mu(action="my", id=pending_id, value=pending_id).pack())
    refused = await lead_person.answer(timeout=3)
    assert refused is not None and t("ru", "A municipality cannot be merged into itself.") in \
        str(refused.get("text"))
    await press(lead_person, Mu(action="mt", id=pending_id, value=kara_kul).pack())
    await said(lead_person, t("ru", "Merge «{source}» into «{target}»?", source="Карак-Куль",
                              target="город Кара-Куль"))
    await press(lead_person, Mu(action="my", id=pending_id, value=kara_kul).pack())
    done = await said(lead_person, t("ru", "No new names are waiting for you."))
    async with db.read() as s:
        after = await s.get(NationalIssue, issue.id)
        assert after is not None and after.municipalities_count == 1
        moved = await s.get(Member, m.id)
        assert moved is not None and moved.municipality_id == kara_kul
    # The issue's card (and its exports, which read the same places) use the merged name.
    card = await ni.card(db, await f.staff(db), issue.id, "ru")
    assert all("Карак-Куль" not in s.place for s in card.supporters)
    assert any("город Кара-Куль" in s.place for s in card.supporters)
    # A second press of the same merge is answered, and changes nothing.
    await lead_person.press_data(done["message_id"],
                                 Mu(action="my", id=pending_id, value=kara_kul).pack())
    again = await lead_person.answer(timeout=3)
    assert again is not None and t("ru", "This name has already been confirmed or merged.") \
        in str(again.get("text"))


async def test_a_district_leader_adds_a_municipality_to_her_district(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    lead_person = await people("Жылдыз", "ru")
    await f.leader(db, "Жылдыз Касымова", "leylek", "finance", telegram_id=lead_person.user_id,
                   language="ru")
    await said(lead_person, t("ru", "Your application has been approved."))
    plain, _plain_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    await plain.send("/places")
    await said(plain, t("ru", "Municipality names are decided by district leaders"))

    await lead_person.send("/places")
    await said(lead_person, t("ru", "No new names are waiting for you."))
    await press(lead_person, Mu(action="add").pack())
    await said(lead_person, t("ru", "Send the name of the municipality to add in {district}"))
    await lead_person.send("Ж")
    await said(lead_person, t("ru", "Please send the name of a municipality: 2 to {limit}",
                              limit=120))
    await lead_person.send("Ж" * 300)
    await said(lead_person, t("ru", "Please send the name of a municipality: 2 to {limit}",
                              limit=120))
    await lead_person.send("Katran")  # already there, in another alphabet
    await said(lead_person, t("ru", "This municipality is already in the list: {name}.",
                              name="Катранский айылный аймак"))
    await lead_person.send("Катранчы")  # close to Katran: asked first
    await said(lead_person, t("ru", "These are already in the list:"))
    await press(lead_person, Mu(action="an").pack())
    await said(lead_person, t("ru", "Added: {name}.", name="Катранчы"))
    async with db.read() as s:
        added = (await s.exec(select(Municipality).where(
            Municipality.name_ru == "Катранчы"))).scalars().one()
        assert added.status == MunicipalityStatus.CONFIRMED and added.active


# --- 3. a member's rights over their data ----------------------------------------------------


NAME = "Гүлмира Жапарова"


async def _contributions(birge: Running, member_id: int, other_id: int) -> dict[str, Any]:
    """One record of every kind, made through the services."""
    db = birge.db
    budget = await f.group_id(db, "budget")
    qid = await questions.ask_question(db, member_id, questions.QuestionDraft(
        budget, "Жергиликтүү бюджетке жер салыгы кантип түшөт?"))
    other_q = await questions.ask_question(db, other_id, questions.QuestionDraft(
        budget, "Мүлк салыгын ким чогултат, айыл өкмөтүбү?"))
    aid = await questions.answer_question(db, member_id, other_q, "Айыл өкмөтү чогултат.")
    case = await legal.open_case(db, member_id, legal.Intake(
        LegalCategory.LAND, "Жер тилкеси боюнча талаш бар.", consent=True))
    issue = await f.national_issue(db, member_id, "Жер салыгы")
    other_issue = await f.national_issue(db, other_id, "Суу маселеси")
    assert other_issue.id is not None
    await ni.cosign(db, member_id, other_issue.id, "Бизде да ушундай.")
    staff = await f.staff(db)
    sent = await broadcasts.submit_broadcast(db, staff, Draft(
        kind=BroadcastKind.DRAFT_LAW, title="Бюджет жөнүндө", text_ky="Долбоор.",
        text_ru="Проект.", audience=Audience(members=[member_id]),
        comments_until=utcnow() + timedelta(days=3)))
    await broadcasts.comment_on_draft(db, member_id, sent.broadcast_id, "Макулбуз.")
    await directory.write(db, member_id, other_id, directory.Draft("Саламатсызбы!"))
    survey = await create_survey(db, staff, Audience(members=[member_id]))
    await answer_all(db, member_id, survey, {
        "budget": "no", "gap": 250000, "trust": 7, "problems": ["water"],
        "priority": ["water", "waste", "roads"]})
    return {"question": qid, "answer": aid, "case": case, "issue": issue.id,
            "cosigned": other_issue.id, "survey": survey}


async def test_a_member_downloads_her_data_then_deletes_her_account(
        birge: Running, people: PersonFactory, tg: EmulatorClient) -> None:
    db = birge.db
    gulmira, gulmira_id = await member(people, birge, NAME, "ky", "leylek", "katran")
    other, other_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas")
    made = await _contributions(birge, gulmira_id, other_id)

    await gulmira.send("/privacy")
    await said(gulmira, t("ky", "What Birge keeps and why:"))
    await press(gulmira, Pv(action="export").pack())

    async def arrived() -> bool:
        return any((m.get("document") or {}).get("file_name") == "birge-my-data.zip"
                   for m in await gulmira.transcript())

    await wait_for(arrived, timeout=10)
    doc = next(m["document"] for m in reversed(await gulmira.transcript())
               if (m.get("document") or {}).get("file_name") == "birge-my-data.zip")
    with zipfile.ZipFile(io.BytesIO(await tg.file(doc["file_id"]))) as z:
        data = json.loads(z.read("birge-data.json"))
        book = load_workbook(io.BytesIO(z.read("birge-data.xlsx")))
    assert data["profile"][0]["full_name"] == NAME
    assert data["profile"][0]["telegram_id"] == gulmira.user_id
    assert data["consent"][0]["consented_at"]
    assert [c["community"] for c in data["communities"]]
    assert [q["id"] for q in data["questions"]] == [made["question"]]
    assert [a["id"] for a in data["answers"]] == [made["answer"]]
    assert [c["id"] for c in data["legal_cases"]] == [made["case"]]
    assert data["legal_cases"][0]["messages"]
    assert [i["id"] for i in data["national_issues"]] == [made["issue"]]
    assert [c["issue_id"] for c in data["cosignatures"]] == [made["cosigned"]]
    assert [c["text"] for c in data["comments"] if c["kind"] == "comment"] == ["Макулбуз."]
    assert [m["text"] for m in data["messages"]] == ["Саламатсызбы!"]
    assert [a["survey_id"] for a in data["survey_answers"]] == [made["survey"]]
    assert data["survey_answers"][0]["answers"]["trust"] == 7
    assert "roles" in data and "settings" in data
    sheets = set(book.sheetnames)
    assert set(privacy.sections()) <= sheets
    questions_sheet = list(book["questions"].iter_rows(values_only=True))
    assert questions_sheet[1][questions_sheet[0].index("text")].startswith("Жергиликтүү")

    before = await _scan(birge, [NAME, str(gulmira.user_id)])
    assert any(x.startswith("member.full_name") for x in before)
    assert any(x.startswith("member.telegram_id") for x in before)

    # Delete: asked first; a forged button for someone else's account is refused.
    await press(gulmira, Pv(action="ask").pack())
    confirm = await said(gulmira, t("ky", "Delete your account?"))
    await other.send("/privacy")
    his = await said(other, t("ru", "What Birge keeps and why:"))
    await other.press_data(his["message_id"], Pv(action="delete",
                                                 member_id=gulmira_id).pack())
    forged = await other.answer(timeout=3)
    assert forged is not None and t("ru", "You are not allowed to do that.") in \
        str(forged.get("text"))
    await other.send("/privacy")  # the forged press changed nothing for anyone
    await said(other, t("ru", "What Birge keeps and why:"))
    async with db.read() as s:
        still = await s.get(Member, gulmira_id)
        assert still is not None and still.full_name == NAME
    await press(gulmira, Pv(action="delete", member_id=gulmira_id).pack())
    await said(gulmira, t("ky", "Your account is deleted."))
    # Pressed twice: a short answer, nothing else.
    await gulmira.press_data(confirm["message_id"], Pv(action="delete",
                                                       member_id=gulmira_id).pack())
    twice = await gulmira.answer(timeout=3)
    assert twice is not None and t("ky", "This account has already been deleted.") in \
        str(twice.get("text"))

    # No personal field remains anywhere: every column of every table is scanned.
    found = await _scan(birge, [NAME, "Гүлмира", "Жапарова", str(gulmira.user_id)])
    assert found == [], found
    # What she gave others stays, as "a former member".
    card = await questions.question_card(db, other_id, made["question"], "ru")
    assert card.asker == ""
    async with db.read() as s:
        issue = await s.get(NationalIssue, made["cosigned"])
        assert issue is not None and issue.members_count == 2
        assert (await s.exec(select(Outbox).where(Outbox.member_id == gulmira_id,
                                                  Outbox.status == "pending"))).all() == []
    # She is unlisted and unreachable.
    with_her = await directory.search(db, other_id, directory.Filters(query="Гүлмира"), "ru")
    assert with_her.total == 0

    # Her legal case stays for the retention period, then the scheduled job erases it.
    assert await privacy.erase_expired_cases(db, utcnow(), 1095) == 0
    assert await privacy.erase_expired_cases(db, utcnow() + timedelta(days=1096), 1095) == 1

    # /start again: a newcomer.
    await gulmira.send("/start")
    await said(gulmira, t("ky", "Choose your language."))


async def _scan(birge: Running, needles: list[str]) -> list[str]:
    """Every (table.column) whose text holds one of the needles."""
    found = []
    async with birge.db.read() as s:
        conn = await s.connection()
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                rows = (await conn.execute(select(cast(column, String)).select_from(table)
                                           .where(column.is_not(None)))).scalars().all()
                for value in rows:
                    if any(n.casefold() in str(value).casefold() for n in needles):
                        found.append(f"{table.name}.{column.name}: {str(value)[:80]}")
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        modelled = {t.name for t in SQLModel.metadata.sorted_tables}
        for name in names:
            if name in modelled or name.startswith("sqlite_") or "question_search_" in name:
                continue
            for row in (await conn.execute(text(f'SELECT * FROM "{name}"'))).all():
                if any(n.casefold() in str(v).casefold() for v in row for n in needles):
                    found.append(f"{name}: {str(row)[:80]}")
    return found


# --- 4. no private group in a shared forum ---------------------------------------------------


async def test_a_community_question_never_reaches_the_shared_forum(
        birge: Running, people: PersonFactory, tg: EmulatorClient) -> None:
    shared, heads_chat = -1001234, -1005678
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek",
                                 position=Position.FINANCE, communities=("finance",))
    head, _head_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas")
    # Everyone sits in the shared forum; only heads of aiyl okmotu in the heads' chat.
    await tg.add_chat(shared, "ЖӨБ форуму", is_forum=True, members=[asel.user_id, head.user_id])
    await tg.add_chat(heads_chat, "Башчылар", is_forum=True, members=[head.user_id])
    await birge.restart_with(forum_chat_id=shared, forum_chat_ids={"heads": heads_chat})
    db = birge.db
    finance_group = await f.group_id(db, "community-finance")
    heads_group = await f.group_id(db, "community-heads")
    budget = await f.group_id(db, "budget")

    finance_q = await questions.ask_question(
        db, asel_id, questions.QuestionDraft(finance_group, "Финансисттер үчүн жабык суроо бар."),
        forum_chat_id=forums_of(birge.settings))
    open_q = await questions.ask_question(
        db, asel_id, questions.QuestionDraft(budget, "Бюджет боюнча ачык суроо бар, жардам."),
        forum_chat_id=forums_of(birge.settings))
    heads_q = await questions.ask_question(
        db, _head_id, questions.QuestionDraft(heads_group, "Башчылар үчүн гана суроо бар."),
        forum_chat_id=forums_of(birge.settings))

    async def posted() -> bool:
        async with db.read() as s:
            rows = (await s.exec(select(Outbox).where(Outbox.chat_id.is_not(None)))).scalars().all()
            return all(r.status == "sent" for r in rows) and len(rows) == 2

    await wait_for(posted, timeout=10)
    in_shared = " ".join(text_of(m) for m in await tg.transcript(shared))
    in_heads = " ".join(text_of(m) for m in await tg.transcript(heads_chat))
    assert f"Q-{open_q}" in in_shared
    assert f"Q-{finance_q}" not in in_shared and f"Q-{heads_q}" not in in_shared
    assert f"Q-{heads_q}" in in_heads and f"Q-{open_q}" not in in_heads
    assert f"Q-{finance_q}" not in in_heads
