"""The bottom-up channel through the real bot: a head of aiyl okmotu in Talas raises the land-tax
problem, colleagues co-sign, the Union staff review it, send it to the Ministry of Finance in a
dossier, record the answer and resolve it, and everyone behind it hears each step in their own
language. Merging, declining, exports and forged buttons too."""

from __future__ import annotations

import csv
import io

from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from bot.i18n import _, in_locale
from bot.sandbox.client import EmulatorClient, Person
from bot.services import dossiers, files
from bot.services import national_issues as ni
from bot.views.callbacks import Dos, Iss, Menu
from bot.views.issues import state_label
from storage.enums import DossierStatus, IssueState
from storage.models import IssueCosign, NationalIssue, Outbox
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    nav,
    pick,
    press,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member


def iss(action: str, issue_id: int = 0, value: str = "") -> str:
    return Iss(action=action, issue_id=issue_id, value=value).pack()


def dos(action: str, dossier_id: int = 0, value: str = "") -> str:
    return Dos(action=action, dossier_id=dossier_id, value=value).pack()


def notice(lang: str, issue_id: int, title: str, state: IssueState, *,
           own: bool = False) -> str:
    """The first line of a state-change notice, as a member speaking `lang` reads it (`own`:
    the author, who is told of "your issue", not of one they stand behind)."""
    with in_locale(lang):
        head = _("Your issue {id} “{title}”: {state}.") if own \
            else _("The issue {id} “{title}” that you stand behind: {state}.")
        return head.format(id=f"P-{issue_id}", title=title, state=state_label(state))



async def staff(people: PersonFactory, birge: Running) -> tuple[Person, int]:
    boss = await people("Айгерим", "ru")
    return boss, await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")


async def issue_rows(birge: Running) -> list[NationalIssue]:
    async with birge.db.read() as s:
        return list((await s.exec(select(NationalIssue))).all())


async def test_a_head_in_talas_raises_the_land_tax_problem_step_by_step(
    birge: Running, people: PersonFactory
) -> None:
    boss, _staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")

    await bakyt.send("/start")
    await said(bakyt, t("ru", "Hello, {name}!"))
    await press(bakyt, Menu(item="raise").pack())
    await said(bakyt, t("ru", "Raise a problem to the national level."))
    await bakyt.upload("sticker", b"sticker")
    await said(bakyt, t("ru", "Please send text, not a file, sticker or voice message."))
    await bakyt.send("Зе")
    await said(bakyt, t("ru", "The title must be 5 to {limit} characters.", limit=200))
    await bakyt.send("Земельный налог уходит из местного бюджета")
    await said(bakyt, t("ru", "Which topic is it?"))
    await bakyt.send("земля")
    await said(bakyt, t("ru", "Please use the buttons."))
    await press(bakyt, pick("it", "land"))
    await said(bakyt, t("ru", "What is the problem?"))
    await press(bakyt, nav("back"))  # back to the topic, then forward again
    await said(bakyt, t("ru", "Which topic is it?"))
    await press(bakyt, pick("it", "land"))
    await said(bakyt, t("ru", "What is the problem?"))
    await bakyt.send("/whatever")
    await said(bakyt, t("ru", "Birge has no such command."))
    await said(bakyt, t("ru", "What is the problem?"))
    await bakyt.send("Я" * 10_000)
    await said(bakyt, t("ru", "Please write 10 to {limit} characters.", limit=3000))
    await bakyt.send("Земельный налог поступает в районный бюджет, айыл окмоту не получает его.")
    await said(bakyt, t("ru", "Which law, rule or practice causes it?"))
    await press(bakyt, nav("skip"))
    await said(bakyt, t("ru", "What do you propose?"))
    await bakyt.send("Зачислять земельный налог в местный бюджет полностью.")
    bodies = await said(bakyt, t("ru", "Which state body should act?"))
    await bakyt.press_data(int(bodies["message_id"]), pick("ib", "999999"))  # no such body
    assert t("ru", "That choice is not available.") in str(await bakyt.answer())
    await press(bakyt, pick("ib", await f.state_body_id(birge.db, "minfin")))
    await said(bakyt, t("ru", "Send evidence documents"))
    await bakyt.upload("document", b"MZ fake", filename="virus.exe",
                       mime_type="application/octet-stream")
    await said(bakyt, t("ru", "This type of file is not accepted. Allowed: {types}.",
                          types=files.TYPES))
    await bakyt.upload("document", b"%PDF-1.4 act", filename="akt.pdf",
                       mime_type="application/pdf")
    await said(bakyt, t("ru", "Attached: {name}. Send more, or press Done.", name="akt.pdf"))
    await press(bakyt, nav("skip"))
    await said(bakyt, t("ru", "Is this issue sensitive?"))
    await press(bakyt, pick("is", "0"))
    summary = await said(bakyt, t("ru", "Please check before raising it:"))
    assert "Министерство финансов" in text_of(summary) and "akt.pdf" in text_of(summary)
    assert await issue_rows(birge) == []  # nothing is written before the confirmation
    await press(bakyt, pick("ic", "yes"))
    done = await said(bakyt, t("ru", "Your issue {id} is registered."))
    [issue] = await issue_rows(birge)
    assert f"P-{issue.id}" in text_of(done)
    assert issue.author_id == bakyt_id and issue.topic == "land" and issue.cause is None
    assert issue.district_id == await f.district_id(birge.db, "talas")
    assert issue.municipality_id == await f.municipality_id(birge.db, "omuraliev")
    assert [d["name"] for d in issue.documents] == ["akt.pdf"]
    assert issue.id is not None
    # The staff hear of it and open it from the notice.
    note = await said(boss, t("ru", "A new national issue to triage:"))
    await boss.press(iss("o", issue.id), note)
    card = await said(boss, f"P-{issue.id}", t("ru", "Proposed solution"))
    assert "Омуралиевский айылный аймак" in text_of(card)


async def test_colleagues_cosign_and_hear_every_step_until_the_answer_comes(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss, _staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    ulan, _ = await member(people, birge, "Улан Токтосунов", "ky", "toguz-toro", "kargalyk")
    gulnara, _ = await member(people, birge, "Гулнара Ташиева", "ru", "leylek", "katran")
    minfin = await f.state_body_id(db, "minfin")
    title = "Земельный налог"
    issue = await f.national_issue(db, bakyt_id, title, state_body_id=minfin)
    assert issue.id is not None
    pid = issue.id

    # Ulan finds it in /issues and co-signs with a comment (in Kyrgyz).
    await ulan.send("/issues")
    listing = await said(ulan, t("ky", "National issues, most municipalities affected first"))
    assert f"P-{pid}" in str(listing.get("reply_markup"))
    await press(ulan, iss("o", pid))
    await said(ulan, f"P-{pid}", t("ky", "Proposed solution"))
    await press(ulan, iss("c", pid))
    await said(ulan, t("ky", "Add a comment about your municipality's case"))
    await ulan.send("Бизде да жер салыгы районго кетет.")
    got = await said(ulan, t("ky", "Thank you: your municipality now stands behind {id}.",
                             id=f"P-{pid}"))
    with in_locale("ky"):
        assert ni.short_id(pid) in text_of(got)
    # Gulnara co-signs without a comment; a second press is refused.
    await gulnara.send("/issues")
    await said(gulnara, t("ru", "National issues"))
    await press(gulnara, iss("o", pid))
    await said(gulnara, f"P-{pid}")
    await press(gulnara, iss("c", pid))
    prompt = await said(gulnara, t("ru", "Add a comment about your municipality's case"))
    await press(gulnara, nav("skip"))
    await said(gulnara, t("ru", "Thank you: your municipality now stands behind {id}.",
                          id=f"P-{pid}"))
    await gulnara.press_data(int(prompt["message_id"]), iss("c", pid))
    assert t("ru", "Your co-signature is already counted.") in str(await gulnara.answer())
    async with db.read() as s:
        row = await s.get(NationalIssue, pid)
        cosigns = (await s.exec(select(IssueCosign).where(IssueCosign.issue_id == pid))).all()
    assert row is not None and (row.members_count, row.municipalities_count,
                                row.districts_count, row.regions_count) == (3, 3, 3, 3)
    assert len(cosigns) == 2

    # The staff start the review: all three hear it, each in their language, once.
    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, iss("o", pid))
    card = await said(boss, f"P-{pid}", t("ru", "Co-signed by"))
    assert "Бизде да жер салыгы районго кетет." in text_of(card)
    await press(boss, iss("rv", pid))
    await said(bakyt, notice("ru", pid, title, IssueState.UNDER_REVIEW, own=True))
    await said(ulan, notice("ky", pid, title, IssueState.UNDER_REVIEW))
    await said(gulnara, notice("ru", pid, title, IssueState.UNDER_REVIEW))

    # Into a new dossier for the Ministry of Finance, sent by letter under a reference number.
    await press(boss, iss("ds", pid))
    await said(boss, t("ru", "Add {id} to which dossier?", id=f"P-{pid}"))
    await press(boss, dos("n", value=f"{minfin}.{pid}"))
    card = await said(boss, "X-", "Министерство финансов")
    dossier_id = int(text_of(card).split("X-")[1].split()[0])
    await press(boss, dos("s", dossier_id))
    await said(boss, t("ru", "How was the dossier sent?"))
    await press(boss, dos("sv", dossier_id, "letter"))
    await said(boss, t("ru", "Send its outgoing reference number."))
    await boss.send("01-12/345")
    await said(boss, t("ru", "When was it sent?"))
    await boss.send("31.12.2099")
    await said(boss, t("ru", "Please send a date that has passed"))
    await boss.send("20.11.2026")
    sent = await said(boss, t("ru", "Sent on {when} ({via}), reference number {number}."
                              ).split()[0], "01-12/345")
    assert "20 ноября 2026 г." in text_of(sent)
    for person, lang in ((bakyt, "ru"), (ulan, "ky"), (gulnara, "ru")):
        got = await said(person, notice(lang, pid, title, IssueState.FORWARDED,
                                    own=person is bakyt))
        assert "01-12/345" in text_of(got)

    # The ministry answers; the staff record it on the dossier.
    await press(boss, dos("r", dossier_id))
    await said(boss, t("ru", "Send the text of the state body's response"))
    await boss.send("Министерство подготовит поправки в Налоговый кодекс.")
    await said(boss, t("ru", "Send the response's documents"))
    await boss.upload("document", b"%PDF-1.4 answer", filename="otvet.pdf",
                      mime_type="application/pdf")
    await said(boss, t("ru", "Attached: {name}. Send more, or press Done.", name="otvet.pdf"))
    await press(boss, nav("skip"))
    await said(boss, "Министерство подготовит поправки в Налоговый кодекс.", f"X-{dossier_id}")
    for person, lang in ((bakyt, "ru"), (ulan, "ky"), (gulnara, "ru")):
        got = await said(person, notice(lang, pid, title, IssueState.RESPONDED,
                                    own=person is bakyt))
        assert "Министерство подготовит поправки" in text_of(got)

    async def has_answer_file(person: Person) -> bool:
        return any((m.get("document") or {}).get("file_name") == "otvet.pdf"
                   for m in await person.transcript())

    await wait_for(lambda: has_answer_file(ulan))  # the response's documents come along
    view = await dossiers.view(db, _staff_id, dossier_id, "ru")
    assert view.dossier.status == DossierStatus.ANSWERED
    assert [d["name"] for d in view.dossier.response_documents] == ["otvet.pdf"]

    # Resolved: the last notice.
    await boss.press(iss("o", pid))
    await said(boss, f"P-{pid}")
    await press(boss, iss("rs", pid))
    for person, lang in ((bakyt, "ru"), (ulan, "ky"), (gulnara, "ru")):
        await said(person, notice(lang, pid, title, IssueState.RESOLVED,
                                 own=person is bakyt))
    # One notice per person per change of state, nothing more.
    async with db.read() as s:
        rows = (await s.exec(select(Outbox).where(Outbox.kind == ni.OUTBOX_STATE))).all()
    assert len(rows) == 3 * 4
    assert len({(r.member_id, r.payload["state"]) for r in rows}) == 12
    for person in (bakyt, ulan, gulnara):
        await silent(person, 0.3)


async def test_staff_merge_a_duplicate_and_its_backers_hear_where_it_went(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss, _staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    ulan, ulan_id = await member(people, birge, "Улан Токтосунов", "ky", "toguz-toro",
                                 "kargalyk")
    dinara, dinara_id = await member(people, birge, "Динара Мамытова", "ru", "aksy",
                                     "tash-kumyr")
    target = await f.national_issue(db, bakyt_id, "Земельный налог")
    duplicate = await f.national_issue(db, ulan_id, "Жер салыгы")
    assert target.id and duplicate.id
    await ni.cosign(db, dinara_id, target.id)
    await ni.cosign(db, dinara_id, duplicate.id)  # behind both: still one member after
    await ni.cosign(db, bakyt_id, duplicate.id)

    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, iss("o", duplicate.id))
    await said(boss, f"P-{duplicate.id}")
    await press(boss, iss("mg", duplicate.id))
    await said(boss, t("ru", "Send the number of the issue to merge it into"))
    await boss.send("P-999")
    await said(boss, t("ru", "That issue cannot take the merge"))
    await boss.send(f"Р-{target.id}")  # a Cyrillic Р, as a Russian keyboard types it
    await said(boss, t("ru", "{id} is merged into {target}.", id=f"P-{duplicate.id}",
                       target=f"P-{target.id}"))
    await said(ulan, notice("ky", duplicate.id, "Жер салыгы", IssueState.MERGED, own=True),
               f"P-{target.id}")
    await said(dinara, notice("ru", duplicate.id, "Жер салыгы", IssueState.MERGED))
    await said(bakyt, notice("ru", duplicate.id, "Жер салыгы", IssueState.MERGED))
    async with db.read() as s:
        merged = await s.get(NationalIssue, duplicate.id)
        kept = await s.get(NationalIssue, target.id)
    assert merged is not None and merged.state == IssueState.MERGED
    assert kept is not None and (kept.members_count, kept.municipalities_count) == (3, 3)
    # The merged issue now offers the way to its target; co-signing it is refused.
    await dinara.send("/issues")
    listing = await said(dinara, t("ru", "National issues"))
    assert f"P-{duplicate.id} " not in str(listing.get("reply_markup"))
    await dinara.press_data(int(listing["message_id"]), iss("c", duplicate.id))
    assert t("ru", "Your co-signature is already counted.") in str(await dinara.answer())
    await boss.send("/issues")
    mine = await said(boss, t("ru", "National issues"))
    await boss.press_data(int(mine["message_id"]), iss("c", duplicate.id))
    assert t("ru", "This issue is closed") in str(await boss.answer())


async def test_a_declined_issue_tells_its_backers_why(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss, _staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    issue = await f.national_issue(db, bakyt_id, "Ремонт дороги")
    assert issue.id is not None
    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, iss("o", issue.id))
    await said(boss, f"P-{issue.id}")
    await press(boss, iss("dc", issue.id))
    await said(boss, t("ru", "Why is it declined?"))
    await boss.upload("sticker", b"sticker")
    await said(boss, t("ru", "Please send text, not a file, sticker or voice message."))
    await boss.send("Это решается на уровне района.")
    await said(boss, f"P-{issue.id}", "Это решается на уровне района.")
    got = await said(bakyt, notice("ru", issue.id, "Ремонт дороги", IssueState.DECLINED, own=True))
    assert "Это решается на уровне района." in text_of(got)


async def test_staff_export_the_issues_and_a_dossier_letter(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    db = birge.db
    boss, staff_id = await staff(people, birge)
    _bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    minfin = await f.state_body_id(db, "minfin")
    issue = await f.national_issue(db, bakyt_id, "Земельный налог", state_body_id=minfin)
    assert issue.id is not None
    for name, district, muni in (("Улан Токтосунов", "toguz-toro", "kargalyk"),
                                 ("Гулнара Ташиева", "leylek", "katran")):
        m = await f.member(db, name, district=district, municipality=muni)
        await ni.cosign(db, m.id, issue.id)
    dossier = await dossiers.create_dossier(db, staff_id, minfin)
    assert dossier.id is not None
    await dossiers.add_to_dossier(db, staff_id, dossier.id, issue.id)

    async def download(name: str) -> bytes:
        for message in reversed(await boss.transcript()):
            document = message.get("document") or {}
            if document.get("file_name") == name:
                return await tg.file(document["file_id"])
        raise AssertionError(f"no {name} was sent")

    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, iss("xl"))
    await press(boss, iss("cv"))
    await boss.send("/dossiers")
    await said(boss, t("ru", "Dossiers, newest first:"))
    await press(boss, dos("o", dossier.id))
    await said(boss, f"X-{dossier.id}")
    await press(boss, dos("w", dossier.id, "ru"))

    async def arrived() -> bool:
        names = {(m.get("document") or {}).get("file_name") for m in await boss.transcript()}
        return {"issues.xlsx", "issues.csv", f"dossier-X{dossier.id}-ru.docx"} <= names

    await wait_for(arrived)
    sheet = load_workbook(io.BytesIO(await download("issues.xlsx"))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Номер" and rows[1][0] == f"P-{issue.id}"
    table = list(csv.reader(io.StringIO((await download("issues.csv")).decode("utf-8-sig"))))
    assert table[0][0] == "Номер" and table[1][1] == "Земельный налог"
    letter = Document(io.BytesIO(await download(f"dossier-X{dossier.id}-ru.docx")))
    text = "\n".join(p.text for p in letter.paragraphs)
    assert "Кому: Министерство финансов" in text
    assert "3 муниципалитета" in text and "Лейлекский район" in text


async def test_forged_buttons_and_restricted_issues_change_nothing(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    _boss, staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek", "katran")
    public = await f.national_issue(db, bakyt_id, "Земельный налог")
    secret = await f.national_issue(db, bakyt_id, "Давление на айыл окмоту", restricted=True)
    minfin = await f.state_body_id(db, "minfin")
    dossier = await dossiers.create_dossier(db, staff_id, minfin)
    assert public.id and secret.id and dossier.id

    await asel.send("/issues")
    listing = await said(asel, t("ru", "National issues"))
    assert f"P-{secret.id}" not in str(listing.get("reply_markup"))
    mid = int(listing["message_id"])
    denied = t("ru", "You are not allowed to do that.")
    gone = t("ru", "That item no longer exists.")
    for data, expected in (
        (iss("rv", public.id), denied), (iss("rs", public.id), denied),
        (iss("dc", public.id), denied), (iss("mg", public.id), denied),
        (iss("rp", public.id), denied), (iss("xl"), denied), (iss("cv"), denied),
        (iss("o", secret.id), gone), (iss("c", secret.id), gone), (iss("d", secret.id), gone),
        (iss("o", 999_999), gone),
        (dos("o", dossier.id), denied), (dos("w", dossier.id, "ru"), denied),
        (dos("n", value=f"{minfin}.{public.id}"), denied),
        (dos("a", dossier.id, str(public.id)), denied), (dos("s", dossier.id), denied),
        (dos("r", dossier.id), denied),
    ):
        await asel.press_data(mid, data)
        assert expected in str(await asel.answer()), data
    await asel.press_data(mid, f"i:zz:{public.id}:")  # an action Birge never made
    assert t("ru", "This button is no longer active.") in str(await asel.answer())
    # Malformed filters are dropped: the same list, unchanged (no edit), and no error.
    await asel.press_data(mid, iss("l", value="s=nonsense;b=abc;p=-1"))
    assert await asel.answer() is not None
    await silent(asel, 0.3)
    # The author cannot co-sign their own issue; the author sees the restricted one.
    await bakyt.send("/issues")
    own = await said(bakyt, t("ru", "National issues"))
    assert f"P-{secret.id}" in str(own.get("reply_markup"))
    await bakyt.press_data(int(own["message_id"]), iss("c", public.id))
    assert t("ru", "You raised this issue yourself") in str(await bakyt.answer())
    async with db.read() as s:
        rows = (await s.exec(select(NationalIssue))).all()
        cosigns = (await s.exec(select(IssueCosign))).all()
    assert {r.state for r in rows} == {IssueState.NEW} and cosigns == []
    assert (await dossiers.view(db, staff_id, dossier.id, "ru")).issues == []
    del asel_id


async def test_the_list_filters_by_topic_and_state(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    _boss, staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    land = await f.national_issue(db, bakyt_id, "Земельный налог")
    waste = await f.national_issue(db, bakyt_id, "Вывоз мусора", topic="utilities")
    assert land.id and waste.id
    await ni.start_review(db, staff_id, waste.id)
    await bakyt.send("/issues")
    await said(bakyt, t("ru", "National issues, most municipalities affected first"))
    await press(bakyt, iss("l", value="o=new"))
    await said(bakyt, t("ru", "National issues, newest first"))
    await press(bakyt, iss("ft", value="o=new"))
    await said(bakyt, t("ru", "Choose a filter:"))
    await press(bakyt, iss("l", value="o=new;t=utilities"))
    shown = await said(bakyt, t("ru", "Filters: {filters}").split(":")[0])
    assert f"P-{waste.id}" in str(shown["reply_markup"])
    assert f"P-{land.id} " not in str(shown["reply_markup"])
    await press(bakyt, iss("fs", value="o=new;t=utilities"))
    await said(bakyt, t("ru", "Choose a filter:"))
    await press(bakyt, iss("l", value="o=new;t=utilities;s=new"))
    empty = await said(bakyt, t("ru", "No issues here yet."))
    with in_locale("ru"):
        assert state_label("new") in text_of(empty)


async def test_the_longest_issue_still_fits_one_message(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss, staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")
    long = ("<b>&налог</b> " * 400)[:ni.TEXT_MAX]
    issue = await f.national_issue(db, bakyt_id, "Н&" * 100, problem=long, cause=long,
                                   solution=long)
    assert issue.id is not None
    for n in range(12):
        m = await f.member(db, f"Участник Номер{chr(0x410 + n)}", district="leylek")
        await ni.cosign(db, m.id, issue.id, "<i>&" * 250)
    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, iss("o", issue.id))
    card = await said(boss, f"P-{issue.id}", t("ru", "Proposed solution"))
    assert len(text_of(card)) <= 4096
    await press(boss, iss("dc", issue.id))
    await said(boss, t("ru", "Why is it declined?"))
    await boss.send("&<" * 500)
    got = await said(bakyt, notice("ru", issue.id, "Н&" * 100, IssueState.DECLINED, own=True))
    assert "&<" in text_of(got)
    del staff_id


async def test_a_restart_in_the_middle_of_raising_loses_nothing(
    birge: Running, people: PersonFactory
) -> None:
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ky", "talas", "omuraliev")
    await bakyt.send("/raise")
    await said(bakyt, t("ky", "Raise a problem to the national level."))
    await bakyt.send("Жер салыгы жергиликтүү бюджетке түшпөйт")
    await said(bakyt, t("ky", "Which topic is it?"))
    await birge.restart()
    await press(bakyt, pick("it", "budget"))
    await said(bakyt, t("ky", "What is the problem?"))
    await press(bakyt, nav("cancel"))
    await said(bakyt, t("ky", "Cancelled. Nothing was raised."))
    assert await issue_rows(birge) == []


async def test_staff_record_the_answer_to_one_forwarded_issue_from_its_card(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss, staff_id = await staff(people, birge)
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ky", "talas", "omuraliev")
    issue = await f.national_issue(db, bakyt_id, "Салык кызматы")
    assert issue.id is not None
    await ni.forward(db, staff_id, issue.id, await f.state_body_id(db, "tax-service"))
    await said(bakyt, notice("ky", issue.id, "Салык кызматы", IssueState.FORWARDED, own=True),
               "Мамлекеттик салык кызматы")
    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, iss("o", issue.id))
    await said(boss, f"P-{issue.id}")
    await press(boss, iss("rp", issue.id))
    await said(boss, t("ru", "Send the response of the state body"))
    await press(boss, nav("cancel"))
    await said(boss, t("ru", "Cancelled."))
    await press(boss, iss("rp", issue.id))
    await said(boss, t("ru", "Send the response of the state body"))
    await boss.send("Салык кызматы түшүндүрмө берет.")
    await said(boss, f"P-{issue.id}", "Салык кызматы түшүндүрмө берет.")
    got = await said(bakyt, notice("ky", issue.id, "Салык кызматы", IssueState.RESPONDED, own=True))
    assert "Салык кызматы түшүндүрмө берет." in text_of(got)
