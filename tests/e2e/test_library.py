"""The library through the real bot: a finance officer in Leylek proposes her practice with a
photo and a PDF, the budget group's moderator returns it with a comment, she edits it, it is
approved, a head of aiyl okmotu in Talas says his municipality uses it, and it shows in search, in
the digest and as the practice of the month in the bulletin draft. The decisions archive, and a
community-only group's items kept from everyone outside the community."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.i18n import TIMEZONE
from bot.sandbox.client import Person
from bot.services import bulletin, digests, groups, library, search
from bot.services.broadcasts import Audience, Draft, submit_broadcast
from bot.services.library import ItemDraft
from bot.views.library import Lib, LibHist, LibList, LibMenu, Srf
from storage.enums import BroadcastKind, ItemStatus, Position
from storage.models import LibraryItem, LibraryRevision
from tests import factories as f
from tests.e2e.conftest import (
    JSON,
    PersonFactory,
    Running,
    buttons,
    nav,
    navs,
    pick,
    press,
    said,
    t,
    text_of,
)
from tests.e2e.journeys import member


def sent_for_review() -> str:
    return t("ru", "{label} is sent for review.", label="X").split("X ")[1][:20]


def labels(message: JSON) -> list[str]:
    return [label for label, _data in buttons(message)]


async def ticked(person: Person, lang: str, *marks: str) -> None:
    """The languages step shows these ticks (its buttons: "☑️ Русский", "⬜ English")."""
    for _attempt in range(20):
        shown = await said(person, t(lang, "In which languages will you write?"))
        if all(m in labels(shown) for m in marks):
            return
    raise AssertionError(f"the languages step never showed {marks}")


def lib(action: str, item_id: int) -> str:
    return Lib(action=action, item_id=item_id).pack()


async def items(birge: Running) -> list[LibraryItem]:
    async with birge.db.read() as s:
        return list((await s.exec(select(LibraryItem))).all())


async def test_a_finance_officer_shares_a_practice_that_is_returned_approved_and_adopted(
    birge: Running, people: PersonFactory
) -> None:
    budget = await f.group_id(birge.db, "budget")
    mod_person = await people("Бермет", "ru")
    moderator = await f.moderator(birge.db, "Бермет Алиева", "budget",
                                  telegram_id=mod_person.user_id, language="ru")
    await said(mod_person, t("ru", "Your application has been approved."))
    aizada, aizada_id = await member(people, birge, "Айзада Токтогулова", "ru", "leylek",
                                     "katran", position=Position.FINANCE,
                                     communities=("finance",))
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    await groups.join_group(birge.db, bakyt_id, budget)

    await aizada.send("/library")
    await said(aizada, t("ru", "The library: practices"))
    await press(aizada, LibMenu(item="propose").pack())
    await said(aizada, t("ru", "Which topic group is it for?"))
    await press(aizada, pick("yg", budget))
    await ticked(aizada, "ru", "☑️ Русский", "⬜ Кыргызча")
    await press(aizada, pick("yl", "ok"))
    await said(aizada, t("ru", "A short title"))
    await aizada.upload("sticker", b"sticker")
    await said(aizada, t("ru", "Please send text, not a file, sticker or voice message."))
    await aizada.send("/start")
    await said(aizada, t("ru", "A short title"))
    await aizada.send("Открытый бюджет: слушания с жителями")
    await said(aizada, t("ru", "What was the problem?"))
    await aizada.send("Б" * 20_000)
    await said(aizada, t("ru", "Please write 2 to {limit} characters.", limit=3000))
    await aizada.send("Жители не понимали, куда уходят деньги местного бюджета.")
    await said(aizada, t("ru", "What did the municipality do?"))
    await aizada.send("Провели публичные слушания по бюджету в каждом селе.")
    await said(aizada, t("ru", "What are the results, in numbers?"))
    await aizada.send("Сбор земельного налога вырос на 18 процентов.")
    await said(aizada, t("ru", "What did it cost"))
    await press(aizada, nav("skip"))
    await said(aizada, t("ru", "What should others watch out for?"))
    await press(aizada, nav("skip"))
    await said(aizada, t("ru", "How can colleagues reach you"))
    await press(aizada, nav("skip"))
    await said(aizada, t("ru", "Show your name with the practice?"))
    await press(aizada, pick("yv", "0"))
    await said(aizada, t("ru", "Send photos and documents"))
    await aizada.upload("document", b"MZ", filename="tool.exe",
                        mime_type="application/octet-stream")
    await said(aizada, t("ru", "This type of file is not accepted."))
    await aizada.upload("photo", b"\x89PNG photo")
    await said(aizada, t("ru", "Attached: {name}. Send more, or press Next.", name="photo.jpg"))
    await aizada.upload("document", b"%PDF-1.4 report", filename="otchet.pdf",
                        mime_type="application/pdf")
    await said(aizada, t("ru", "Attached: {name}. Send more, or press Next.", name="otchet.pdf"))
    await press(aizada, nav("skip"))
    preview = await said(aizada, t("ru", "Please check:"))
    assert "otchet.pdf" in text_of(preview) and await items(birge) == []
    await press(aizada, pick("yc", "yes"))
    await said(aizada, "LIB-", sent_for_review())
    [item] = await items(birge)
    assert item.status == ItemStatus.REVIEW and len(item.files) == 2
    assert item.municipality_id == await f.municipality_id(birge.db, "katran")

    # A member who is not a moderator forges the approve button: refused, nothing changes.
    await bakyt.send("/library")
    home = await said(bakyt, t("ru", "The library: practices"))
    await bakyt.press_data(int(home["message_id"]), lib("approve", item.id or 0))
    assert t("ru", "You are not allowed to do that.") in str(await bakyt.answer())
    assert (await items(birge))[0].status == ItemStatus.REVIEW

    # The moderator hears of it and returns it with a comment.
    await said(mod_person, t("ru", "A new proposal {label} waits for your review.",
                             label=library.label(item.id or 0)))
    await press(mod_person, lib("return", item.id or 0))
    await said(mod_person, t("ru", "What should the author change?"))
    await mod_person.send("Добавьте, сколько стоили слушания.")
    await said(mod_person, t("ru", "Done: the author will get your comment."))
    returned = await said(aizada, t("ru", "Your proposal {label} “{title}” was returned",
                                    label=library.label(item.id or 0),
                                    title="Открытый бюджет: слушания с жителями").split("{")[0])
    assert "сколько стоили" in text_of(returned)

    # She edits it: the cost is added, the rest kept; it goes back to review.
    await press(aizada, lib("edit", item.id or 0))
    await said(aizada, t("ru", "In which languages will you write?"))
    await press(aizada, pick("yl", "ok"))
    await said(aizada, t("ru", "A short title"))
    for then in ("What was the problem?", "What did the municipality do?",
                 "What are the results", "What did it cost"):  # Keep: each step as it was
        await press(aizada, nav("skip"))
        await said(aizada, t("ru", then))
    await aizada.send("20 000 сомов из местного бюджета.")
    await said(aizada, t("ru", "What should others watch out for?"))
    await press(aizada, nav("skip"))
    await said(aizada, t("ru", "How can colleagues reach you"))
    await press(aizada, nav("skip"))
    await said(aizada, t("ru", "Show your name with the practice?"))
    await press(aizada, pick("yv", "0"))
    await said(aizada, t("ru", "Send photos and documents"))
    await press(aizada, nav("skip"))
    await said(aizada, t("ru", "Please check:"), "20 000")
    await press(aizada, pick("yc", "yes"))
    await said(aizada, "LIB-", sent_for_review())
    [item] = await items(birge)
    assert item.status == ItemStatus.REVIEW and item.texts["ru"]["cost"].startswith("20 000")
    async with birge.db.read() as s:
        assert len((await s.exec(select(LibraryRevision))).all()) == 1

    await said(mod_person, t("ru", "The author changed the proposal"))
    await press(mod_person, lib("approve", item.id or 0))
    await said(aizada, t("ru", "Your proposal {label} “{title}” is published",
                         label=library.label(item.id or 0),
                         title="Открытый бюджет: слушания с жителями").split("{")[0])

    # Another municipality uses it; adopting twice is refused.
    await bakyt.send("/search слушания бюджет")
    found = await said(bakyt, library.label(item.id or 0))
    assert "Открытый бюджет" in text_of(found)
    await press(bakyt, lib("open", item.id or 0))
    await said(bakyt, "Открытый бюджет", t("ru", "Results in numbers"))
    await press(bakyt, lib("adopt", item.id or 0))
    await said(aizada, "Бакыт Осмонов", library.label(item.id or 0))
    assert (await items(birge))[0].municipalities_count == 1
    await bakyt.press_data(int(found["message_id"]), lib("adopt", item.id or 0))
    assert t("ru", "Your municipality is already counted.") in str(await bakyt.answer())
    assert (await items(birge))[0].adoptions_count == 1
    await press(bakyt, lib("who", item.id or 0))
    await said(bakyt, "Таласский", "Омуралиев")

    # The digest of a follower and the bulletin's practice of the month.
    since = datetime.now(UTC) - timedelta(days=1)
    digest = await digests.build_digest(birge.db, bakyt_id, since)
    assert digest is not None
    sections = dict(digest.sections)
    assert sections["library"].items[0].ref == library.label(item.id or 0)
    boss = await f.staff(birge.db, None, "Айгерим", language="ru")
    draft = await bulletin.compile_bulletin(
        birge.db, boss, datetime.now(UTC).astimezone(TIMEZONE).date(), TIMEZONE)
    best = dict(draft.parts)["practice_of_month"]
    assert best[0].ref == library.label(item.id or 0) and best[0].note == "used:1:0"
    assert moderator.id != aizada_id


async def test_a_member_finds_last_months_decree_in_decisions_and_search(
    birge: Running, people: PersonFactory
) -> None:
    boss = await f.staff(birge.db, None, "Айгерим", language="ru")
    aizada, aizada_id = await member(people, birge, "Айзада Токтогулова", "ru")
    sent = await submit_broadcast(birge.db, boss, Draft(
        kind=BroadcastKind.GOVERNMENT, title="Постановление о местных налогах",
        text_ky="Жергиликтүү салыктар жөнүндө токтом.",
        text_ru="Постановление Кабинета министров о ставках местных налогов.",
        audience=Audience()))
    await said(aizada, "Постановление о местных налогах")
    other = await f.staff(birge.db, None, "Другой", language="ru")
    hidden = await submit_broadcast(birge.db, other, Draft(
        kind=BroadcastKind.NEWS, title="Только для сотрудников налоги",
        text_ky="Кызматкерлер үчүн.", text_ru="Только сотрудникам.",
        audience=Audience(members=[other])))
    await aizada.send("/decisions")
    listing = await said(aizada, t("ru", "Decisions and announcements you received."))
    assert f"B-{sent.broadcast_id}" in text_of(listing)
    assert f"B-{hidden.broadcast_id}" not in text_of(listing)
    await press(aizada, f"dec:open:{sent.broadcast_id}:0")
    await said(aizada, "ставках местных налогов")
    # A forged id of a decision she never received.
    await aizada.press_data(int(listing["message_id"]), f"dec:open:{hidden.broadcast_id}:0")
    assert t("ru", "You are not allowed to do that.") in str(await aizada.answer())
    await aizada.send("/search налогов")
    found = await said(aizada, f"B-{sent.broadcast_id}")
    assert f"B-{hidden.broadcast_id}" not in text_of(found)
    scope = search.Scope(aizada_id, [], False)
    for query in ('"*', "x" * 2000, "NEAR(", ")"):
        assert (await search.everything(birge.db, query, scope)).total >= 0


async def test_a_community_only_groups_items_stay_inside_the_community(
    birge: Running, people: PersonFactory
) -> None:
    boss = await f.staff(birge.db, None, "Айгерим", language="ru")
    finance_group = await f.group_id(birge.db, "community-finance")
    done = await library.submit(birge.db, boss, ItemDraft(
        kind="method", group_id=finance_group,
        texts={"ru": {"title": "Методичка казначейского исполнения бюджета",
                      "body": "Пошаговое руководство для финансистов."}}),
        datetime.now(UTC).date())
    bakyt, _bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    aizada, _aizada_id = await member(people, birge, "Айзада Токтогулова", "ru", "leylek",
                                     "katran", position=Position.FINANCE,
                                     communities=("finance",))
    await bakyt.send("/search методичка казначейского")
    await said(bakyt, t("ru", "Nothing found for"))
    await bakyt.send("/library")
    home = await said(bakyt, t("ru", "The library: practices"))
    assert "Методичка" not in str(home)
    await bakyt.press_data(int(home["message_id"]), lib("open", done.item_id))
    assert t("ru", "You are not allowed to do that.") in str(await bakyt.answer())
    await bakyt.press_data(int(home["message_id"]), LibList(group_id=finance_group).pack())
    denied = await said(bakyt, t("ru", "You are not allowed to do that."))
    assert "Методичка" not in text_of(denied)
    await aizada.send("/search методичка казначейского")
    await said(aizada, library.label(done.item_id))
    await press(aizada, Srf(kind="", group_id=0, choose="group").pack())
    await said(aizada, t("ru", "Search in which group?"))
    await press(aizada, Srf(kind="", group_id=finance_group).pack())
    await said(aizada, library.label(done.item_id))
    await press(aizada, Srf(kind="library", group_id=finance_group).pack())
    await said(aizada, library.label(done.item_id))
    await press(aizada, Srf(kind="decision", group_id=finance_group).pack())
    await said(aizada, t("ru", "Nothing found for"))


def workbook(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["kind", "group", "title_ky", "title_ru", "text_ru", "number", "date",
                  "issuer", "status", "link", "file"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_bytes(text: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def test_legal_acts_imported_from_xlsx_are_found_by_number_and_by_a_stemmed_word(
    birge: Running, people: PersonFactory, tmp_path: Path
) -> None:
    await f.staff(birge.db, None, "Айгерим", language="ru")
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "zakon.pdf").write_bytes(b"%PDF-1.4 law text")
    (folder / "ustav.docx").write_bytes(docx_bytes("Типовой устав местного сообщества"))
    (folder / "broken.docx").write_bytes(b"not a zip")
    (folder / "virus.exe").write_bytes(b"MZ")
    good = [
        ["legal_act", "budget", "Жергиликтүү бюджет жөнүндө", "О местном бюджете",
         "Порядок составления местного бюджета.", "45-р", "12.03.2024", "Жогорку Кенеш",
         "in_force", "https://cbd.minjust.gov.kg/1", "zakon.pdf"],
        ["template", "legal", "Жергиликтүү жамааттын үлгү уставы",
         "Типовой устав местного сообщества", "Образец устава для айылного аймака.", "", "",
         "", "", "", "ustav.docx"],
    ]
    bad = [
        ["legal_act", "budget", "Келечек", "Акт из будущего", "Текст.", "99", "01.01.2099",
         "Кенеш", "in_force", "", "zakon.pdf"],
        ["legal_act", "budget", "Кайталоо", "Повтор номера", "Текст.", "45-р", "01.01.2020",
         "Кенеш", "in_force", "", "zakon.pdf"],
        ["template", "legal", "Бузук", "Битый файл", "Текст.", "", "", "", "", "", "broken.docx"],
        ["template", "legal", "Вирус", "Вирус", "Текст.", "", "", "", "", "", "virus.exe"],
    ]
    env = {"DATABASE_URL": birge.settings.database_url}
    (tmp_path / "bad.xlsx").write_bytes(workbook(good + bad))
    run = await asyncio.to_thread(_cli, tmp_path, "bad.xlsx", env)
    assert run.returncode == 1, run.stderr
    for line, words in ((4, "future"), (5, "same item as line 2"), (6, "does not open"),
                        (7, "is not one of")):
        assert f"line {line}: " in run.stderr and words in run.stderr, run.stderr
    assert await items(birge) == []  # nothing half-written

    (tmp_path / "good.xlsx").write_bytes(workbook(good))
    run = await asyncio.to_thread(_cli, tmp_path, "good.xlsx", env)
    assert run.returncode == 0 and "created 2, updated 0, unchanged 0" in run.stdout, run.stderr
    assert "100%" in run.stderr  # the progress bar
    run = await asyncio.to_thread(_cli, tmp_path, "good.xlsx", env)
    assert "created 0, updated 0, unchanged 2" in run.stdout, run.stderr  # idempotent
    act = next(i for i in await items(birge) if i.kind == "legal_act")

    asel, _asel_id = await member(people, birge, "Асель Жумабаева", "ru")
    await asel.send("/search 45-р")
    found = await said(asel, library.label(act.id or 0))
    assert text_of(found).index(library.label(act.id or 0)) < len(text_of(found))
    await asel.send("/search бюджетного")
    await said(asel, library.label(act.id or 0), "О местном бюджете")
    await press(asel, lib("open", act.id or 0))
    await said(asel, "№ 45-р", "12.03.2024", t("ru", "in force"))
    await press(asel, lib("files", act.id or 0))
    document = await said(asel, "")
    assert document is not None

    # The library filter of /search narrows to one kind of item: legal acts, then templates.
    template = next(i for i in await items(birge) if i.kind == "template")
    act_label, template_label = library.label(act.id or 0), library.label(template.id or 0)
    await asel.send("/search местного")
    both = text_of(await said(asel, act_label))
    assert template_label in both
    await press(asel, Srf(kind="library").pack())
    await said(asel, act_label, template_label)
    await press(asel, Srf(kind="library", item="legal_act").pack())
    only = text_of(await said(asel, act_label))
    assert template_label not in only
    await press(asel, Srf(kind="library", item="template").pack())
    only = text_of(await said(asel, template_label))
    assert act_label not in only


def _cli(cwd: Path, name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run([sys.executable, "-m", "bot", "library", "import", name, "--files",
                           "files"], cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=120)


async def test_staff_add_a_legal_act_step_by_step_and_bad_dates_and_numbers_are_refused(
    birge: Running, people: PersonFactory
) -> None:
    boss_person = await people("Айгерим", "ru")
    boss = await f.staff(birge.db, boss_person.user_id, "Айгерим Касымова", language="ru")
    budget = await f.group_id(birge.db, "budget")
    await library.submit(birge.db, boss, ItemDraft(
        kind="legal_act", group_id=budget, number="12", adopted_on=date(2020, 1, 1),
        texts={"ru": {"title": "О налогах", "issuer": "Кенеш"}},
        files=[{"file_id": "F", "name": "a.pdf", "size": 10}]), datetime.now(UTC).date())
    await boss_person.send("/library")
    await said(boss_person, t("ru", "The library: practices"))
    await press(boss_person, LibMenu(item="add").pack())
    await said(boss_person, t("ru", "What do you want to add to the library?"))
    await press(boss_person, pick("yk", "legal_act"))
    await said(boss_person, t("ru", "Which topic group is it for?"))
    await press(boss_person, pick("yg", budget))
    await said(boss_person, t("ru", "In which languages will you write?"))
    await press(boss_person, pick("yl", "ok"))
    await said(boss_person, t("ru", "A short title"))
    await boss_person.send("О местном самоуправлении")
    await said(boss_person, t("ru", "A short description of the act."))
    await press(boss_person, nav("skip"))
    await said(boss_person, t("ru", "Kind of act"))
    await boss_person.send("Закон")
    await said(boss_person, t("ru", "Which body adopted it?"))
    await boss_person.send("Жогорку Кенеш")
    await said(boss_person, t("ru", "The act's number"))
    await boss_person.send("№ 12")
    await said(boss_person, t("ru", "An act with the number {number} is already in the library.",
                              number="№ 12"))
    await boss_person.send("101")
    await said(boss_person, t("ru", "The date it was adopted"))
    await boss_person.send("01.01.2099")
    await said(boss_person, t("ru", "That date is in the future"))
    await boss_person.send("15.07.2011")
    await said(boss_person, t("ru", "Is the act in force?"))
    await press(boss_person, pick("ya", "amended"))
    await said(boss_person, t("ru", "A link to the official text"))
    await boss_person.send("http://insecure.example")
    await said(boss_person, t("ru", "The link must start with {prefix}", prefix="https://"))
    await boss_person.send("https://cbd.minjust.gov.kg/202345")
    await said(boss_person, t("ru", "Send photos and documents"))
    await boss_person.upload("document", b"%PDF-1.4 law", filename="zakon.pdf",
                             mime_type="application/pdf")
    await press(boss_person, nav("skip"))
    await said(boss_person, t("ru", "Please check:"), "№ 101", "15.07.2011")
    await press(boss_person, pick("yc", "yes"))
    await said(boss_person, t("ru", "{label} is in the library.", label="LIB-2"))


async def open_item(person: Person, lang: str, group_id: int, item_id: int) -> None:
    """/library → the group → the item."""
    await person.send("/library")
    await said(person, t(lang, "The library: practices"))
    await press(person, LibList(group_id=group_id).pack())
    await said(person, t(lang, "Newest first."))
    await press(person, lib("open", item_id))


async def test_the_author_and_a_moderator_read_who_changed_an_item_and_when(
    birge: Running, people: PersonFactory
) -> None:
    budget = await f.group_id(birge.db, "budget")
    mod_person = await people("Бермет", "ru")
    moderator = await f.moderator(birge.db, "Бермет Алиева", "budget",
                                  telegram_id=mod_person.user_id, language="ru")
    await said(mod_person, t("ru", "Your application has been approved."))
    aizada, aizada_id = await member(people, birge, "Айзада Токтогулова", "ky", "leylek",
                                     "katran")
    bakyt, _bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    await groups.join_group(birge.db, _bakyt_id, budget)
    today = datetime.now(UTC).date()
    texts = {"title": "Открытый бюджет", "problem": "Жители не знали о бюджете.",
             "actions": "Провели слушания.", "results": "Налоги выросли на 18%."}
    done = await library.submit(birge.db, aizada_id, ItemDraft(
        kind="practice", group_id=budget, texts={"ru": dict(texts)}), today)
    await library.review(birge.db, moderator.id, done.item_id, "approve")
    boss = await f.staff(birge.db, None, "Айгерим Касымова", language="ru")
    # The moderator adds the Kyrgyz title and a file; staff then correct the results six times.
    await library.edit(birge.db, moderator.id, done.item_id, ItemDraft(
        kind="practice", group_id=budget, files=[{"file_id": "F", "name": "a.pdf", "size": 9}],
        texts={"ru": dict(texts), "ky": {"title": "Ачык бюджет"}}), today)
    for n in range(6):
        await library.edit(birge.db, boss, done.item_id, ItemDraft(
            kind="practice", group_id=budget,
            files=[{"file_id": "F", "name": "a.pdf", "size": 9}],
            texts={"ru": {**texts, "results": f"Налоги выросли на {20 + n}%."},
                   "ky": {"title": "Ачык бюджет"}}), today)

    history = LibHist(item_id=done.item_id).pack()
    await open_item(mod_person, "ru", budget, done.item_id)
    card = await said(mod_person, "Открытый бюджет")
    assert history in [data for _text, data in buttons(card)]
    await press(mod_person, history)
    first = await said(mod_person, t("ru", "History of {label} “{title}”.",
                                     label=library.label(done.item_id), title="Открытый бюджет"))
    page = text_of(first)
    assert t("ru", "Page {page} of {pages}.", page=1, pages=2) in page
    assert page.count("Айгерим Касымова") == 5 and "Бермет Алиева" not in page
    assert t("ru", "Results in numbers") + " (Русский)" in page
    assert re.search(r"\d{1,2} [а-я]+ \d{4} г\., \d\d:\d\d", page)
    assert not re.search(r"\d:\d\d:\d\d", page)  # no seconds
    await press(mod_person, LibHist(item_id=done.item_id, page=1).pack())
    second = text_of(await said(mod_person, t("ru", "Page {page} of {pages}.", page=2,
                                              pages=2)))
    assert "Бермет Алиева" in second and "Айгерим Касымова" in second
    assert t("ru", "Title") + " (Кыргызча)" in second and t("ru", "Files") in second
    added = t("ru", "{when}, added by {name}.", when="§", name="Айзада Токтогулова")
    assert added.split("§")[1] in second  # the oldest line: who added the item

    # The author reads it in Kyrgyz, though she may no longer edit the published item.
    await open_item(aizada, "ky", budget, done.item_id)
    mine = await said(aizada, "Ачык бюджет")
    assert history in [data for _text, data in buttons(mine)]
    await press(aizada, history)
    await said(aizada, t("ky", "History of {label} “{title}”.",
                         label=library.label(done.item_id), title="Ачык бюджет"))

    # A reader sees no History button, and a forged one is refused.
    await open_item(bakyt, "ru", budget, done.item_id)
    theirs = await said(bakyt, "Открытый бюджет")
    assert history not in [data for _text, data in buttons(theirs)]
    await bakyt.press_data(int(theirs["message_id"]), history)
    assert t("ru", "You are not allowed to do that.") in str(await bakyt.answer())


async def test_an_author_writes_in_the_languages_she_chooses_and_readers_get_a_fallback(
    birge: Running, people: PersonFactory
) -> None:
    budget = await f.group_id(birge.db, "budget")
    boss = await f.staff(birge.db, None, "Айгерим Касымова", language="ru")
    # Her Telegram speaks Kyrgyz, but she writes her practice in Russian.
    nurlan, _nurlan_id = await member(people, birge, "Нурлан Сейитов", "ky", "leylek", "katran")
    await nurlan.send("/library")
    await said(nurlan, t("ky", "The library: practices"))
    await press(nurlan, LibMenu(item="propose").pack())
    await said(nurlan, t("ky", "Which topic group is it for?"))
    await press(nurlan, pick("yg", budget))
    await ticked(nurlan, "ky", "☑️ Кыргызча", "⬜ Русский")
    await press(nurlan, pick("yl", "ky"))  # untick Kyrgyz
    await press(nurlan, pick("yl", "en"))
    await ticked(nurlan, "ky", "⬜ Кыргызча", "☑️ English")
    await press(nurlan, pick("yl", "ok"))
    assert t("ky", "Please tick Kyrgyz or Russian") in str(await nurlan.answer())
    await press(nurlan, pick("yl", "en"))
    await press(nurlan, pick("yl", "ru"))
    await ticked(nurlan, "ky", "⬜ Кыргызча", "☑️ Русский", "⬜ English")
    await press(nurlan, pick("yl", "ok"))
    await said(nurlan, t("ky", "Language of this text: {language}", language="Русский"),
               t("ky", "A short title"))
    for answer, then in (("Сбор мусора по графику", "What was the problem?"),
                         ("Мусор вывозили нерегулярно.", "What did the municipality do?"),
                         ("Составили график вывоза с жителями.", "What are the results"),
                         ("Жалоб стало меньше на 60%.", "What did it cost")):
        await nurlan.send(answer)
        await said(nurlan, t("ky", then))
    await press(nurlan, nav("skip"))
    await said(nurlan, t("ky", "What should others watch out for?"))
    await press(nurlan, nav("skip"))
    await said(nurlan, t("ky", "How can colleagues reach you"))
    await nurlan.send("+996 555 000 111")
    await said(nurlan, t("ky", "Show your name with the practice?"))
    await press(nurlan, pick("yv", "0"))
    await said(nurlan, t("ky", "Send photos and documents"))
    await press(nurlan, nav("skip"))
    await said(nurlan, t("ky", "Please check:"), "Сбор мусора по графику",
               t("ky", "Written in: {languages}", languages="Русский"))
    await press(nurlan, pick("yc", "yes"))
    await said(nurlan, "LIB-")
    [item] = await items(birge)
    assert set(item.texts) == {"ru"} and item.title_ky == ""
    assert item.texts["ru"]["contact"] == "+996 555 000 111"
    await library.review(birge.db, boss, item.id or 0, "approve")
    # A Kyrgyz reader gets the Russian text (there is no Kyrgyz one), in a Kyrgyz card.
    card = await library.card(birge.db, boss, item.id or 0, "ky")
    assert card.texts["title"] == "Сбор мусора по графику"

    # Another author writes in Kyrgyz and Russian; in Russian she gives only the title.
    asel, _asel_id = await member(people, birge, "Асель Жумабаева", "ru", "talas", "omuraliev")
    await asel.send("/library")
    await said(asel, t("ru", "The library: practices"))
    await press(asel, LibMenu(item="propose").pack())
    await said(asel, t("ru", "Which topic group is it for?"))
    await press(asel, pick("yg", budget))
    await said(asel, t("ru", "In which languages will you write?"))
    await press(asel, pick("yl", "ky"))
    await ticked(asel, "ru", "☑️ Кыргызча", "☑️ Русский")
    await press(asel, pick("yl", "ok"))
    await said(asel, t("ru", "Language of this text: {language}", language="Кыргызча"))
    for answer, then in (("Таштандыны графит менен чыгаруу", "What was the problem?"),
                         ("Таштанды убагында чыгарылчу эмес.", "What did the municipality do?"),
                         ("Тургундар менен график түздүк.", "What are the results"),
                         ("Даттануулар 60% азайды.", "What did it cost")):
        await asel.send(answer)
        await said(asel, t("ru", then))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "What should others watch out for?"))
    await press(asel, nav("skip"))
    title = await said(asel, t("ru", "Language of this text: {language}", language="Русский"),
                       t("ru", "A short title"))
    assert "skip" not in navs(title)  # required in each language
    await asel.send("Вывоз мусора по графику")
    await said(asel, t("ru", "What was the problem?"))
    for then in ("What did the municipality do?", "What are the results", "What did it cost",
                 "What should others watch out for?", "How can colleagues reach you",
                 "Show your name with the practice?"):
        await press(asel, nav("skip"))
        await said(asel, t("ru", then))
    await press(asel, pick("yv", "1"))
    await said(asel, t("ru", "Send photos and documents"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Please check:"), "Вывоз мусора по графику",
               "Таштанды убагында", t("ru", "Written in: {languages}",
                                      languages="Кыргызча, Русский"))
    await press(asel, pick("yc", "yes"))
    await said(asel, "LIB-", sent_for_review())
    second = max(await items(birge), key=lambda i: i.id or 0)
    assert second.texts["ru"] == {"title": "Вывоз мусора по графику"}
    assert second.texts["ky"]["problem"] == "Таштанды убагында чыгарылчу эмес."
    await library.review(birge.db, boss, second.id or 0, "approve")
    ru = await library.card(birge.db, boss, second.id or 0, "ru")
    assert (ru.texts["title"], ru.texts["problem"]) == ("Вывоз мусора по графику",
                                                        "Таштанды убагында чыгарылчу эмес.")
    ky = await library.card(birge.db, boss, second.id or 0, "ky")
    assert ky.texts["title"] == "Таштандыны графит менен чыгаруу"


async def test_a_kyrgyz_reader_finds_a_decision_by_its_kyrgyz_title_and_reads_it_in_kyrgyz(
    birge: Running, people: PersonFactory
) -> None:
    boss = await f.staff(birge.db, None, "Айгерим", language="ru")
    nurlan, _nurlan_id = await member(people, birge, "Нурлан Сейитов", "ky")
    sent = await submit_broadcast(birge.db, boss, Draft(
        kind=BroadcastKind.GOVERNMENT, title="Постановление о местных налогах",
        title_ky="Жергиликтүү салыктар жөнүндө токтом",
        text_ky="Министрлер Кабинетинин чечими.", text_ru="Решение Кабинета министров.",
        audience=Audience()))
    await said(nurlan, "Жергиликтүү салыктар жөнүндө токтом")
    await nurlan.send("/decisions")
    listing = text_of(await said(nurlan, t("ky", "Decisions and announcements you received.")))
    assert "Жергиликтүү салыктар" in listing and "Постановление" not in listing
    await nurlan.send("/search салыктар")  # a word of the Kyrgyz title only
    found = text_of(await said(nurlan, f"B-{sent.broadcast_id}"))
    assert "Жергиликтүү салыктар" in found and "Постановление" not in found
