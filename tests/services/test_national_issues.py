"""The bottom-up channel at the service level: raising, co-signing and the counts behind an
issue, triage and its notices, merging, dossiers, restricted issues, and the exports read back
with python-docx, openpyxl and csv."""

from __future__ import annotations

import csv
import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.i18n import in_locale
from bot.services import dossiers, issue_exports, reference
from bot.services import national_issues as ni
from bot.services.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from bot.views.issues import export_words
from storage.db import Database
from storage.enums import DossierStatus, IssueState
from storage.models import IssueCosign, NationalIssue, Outbox
from tests import factories as f

# Where the co-signers of the land-tax problem work: ten municipalities in six districts.
COSIGNERS = [
    ("Улан Токтосунов", "toguz-toro", "kargalyk", None),
    ("Нурлан Абдылдаев", "leylek", "toguz-bulak", None),
    ("Гулнара Ташиева", "leylek", "katran", None),
    ("Мирлан Эргешов", "leylek", "sumbula", None),
    ("Жылдыз Абдыкалыкова", "chatkal", "kanysh-kyya", None),
    ("Канат Бейшеев", "chatkal", "kok-oy", None),
    ("Айбек Терек-Сайский", "chatkal", "terek-sai", None),
    ("Эрмек Чаткальский", "chatkal", "chatkal", None),
    ("Динара Мамытова", "aksy", "tash-kumyr", None),
    ("Самара Осмоналиева", "toktogul", "kara-kul", None),
    ("Азамат Турдубаев", "kara-buura", None, "Кызыл-Адыр"),
    ("Бакыт Манасский", "manas", None, "Покровка"),
]


async def state_notices(db: Database, issue_id: int, state: str) -> list[int]:
    async with db.read() as s:
        rows = (await s.exec(select(Outbox).where(Outbox.kind == ni.OUTBOX_STATE)
                             .order_by(col(Outbox.id)))).all()
    return sorted(r.member_id for r in rows if r.member_id is not None
                  and r.payload.get("issue_id") == issue_id and r.payload.get("state") == state)


@pytest.fixture
async def talas(db: Database) -> dict[str, int]:
    """A head of aiyl okmotu in Talas, twelve colleagues elsewhere, and the Union staff."""
    ids = {"author": (await f.member(db, "Бакыт Осмонов", district="talas",
                                     municipality="omuraliev", language="ky")).id,
           "staff": await f.staff(db, language="ru")}
    for n, (name, district, municipality, other) in enumerate(COSIGNERS):
        ids[f"c{n}"] = (await f.member(db, name, district=district, municipality=municipality,
                                       municipality_other=other,
                                       language="ru" if n % 2 else "ky")).id
    return ids


async def test_twelve_municipalities_cosign_the_land_tax_problem_raised_in_talas(
    db: Database, talas: dict[str, int]
) -> None:
    minfin = await f.state_body_id(db, "minfin")
    issue = await f.national_issue(db, talas["author"], state_body_id=minfin,
                                   cause="Статья 5 Налогового кодекса.")
    assert issue.id is not None and issue.state == IssueState.NEW
    assert (issue.members_count, issue.municipalities_count, issue.districts_count,
            issue.regions_count) == (1, 1, 1, 1)
    assert issue.district_id == await f.district_id(db, "talas")  # from the profile
    for n in range(len(COSIGNERS)):
        backing = await ni.cosign(db, talas[f"c{n}"], issue.id,
                                  "У нас то же самое." if n == 0 else None)
    # Talas, Toguz-Toro, Leylek, Chatkal, Aksy, Toktogul, Kara-Buura, Manas; in the Talas,
    # Jalal-Abad and Batken regions.
    assert backing == ni.Backing(members=13, municipalities=13, districts=8, regions=3)
    # A second member from Katran counts as a member, not as another municipality.
    katran = await f.member(db, "Второй Катранский", district="leylek", municipality="katran")
    backing = await ni.cosign(db, katran.id, issue.id)
    assert backing == ni.Backing(members=14, municipalities=13, districts=8, regions=3)
    # The staff are told of the new issue.
    async with db.read() as s:
        raised = (await s.exec(select(Outbox).where(Outbox.kind == ni.OUTBOX_RAISED))).all()
    assert {r.member_id for r in raised} >= {talas["staff"]}
    card = await ni.card(db, talas["staff"], issue.id, "ru")
    assert "Таласский район" in card.districts and len(card.districts) == 8
    assert card.supporters[0].comment == "У нас то же самое."


async def test_a_member_cosigns_once_and_the_author_not_at_all(
    db: Database, talas: dict[str, int]
) -> None:
    issue = await f.national_issue(db, talas["author"])
    assert issue.id is not None
    await ni.cosign(db, talas["c0"], issue.id)
    with pytest.raises(InvalidState) as twice:
        await ni.cosign(db, talas["c0"], issue.id)
    assert twice.value.code == "already_cosigned"
    with pytest.raises(InvalidState) as own:
        await ni.cosign(db, talas["author"], issue.id)
    assert own.value.code == "own_issue"
    with pytest.raises(InvalidInput):
        await ni.cosign(db, talas["c1"], issue.id, "x" * 10_000)
    async with db.read() as s:
        rows = (await s.exec(select(IssueCosign).where(IssueCosign.issue_id == issue.id))).all()
    assert [r.member_id for r in rows] == [talas["c0"]]


async def test_the_list_puts_most_municipalities_first_and_filters(
    db: Database, talas: dict[str, int]
) -> None:
    small = await f.national_issue(db, talas["c0"], "Вывоз мусора", topic="utilities")
    big = await f.national_issue(db, talas["author"], "Земельный налог",
                                 state_body_id=await f.state_body_id(db, "tax-service"))
    assert big.id and small.id
    for n in (1, 2, 3):
        await ni.cosign(db, talas[f"c{n}"], big.id)
    listed = await ni.list_issues(db, talas["c5"])
    assert [i.id for i in listed.issues] == [big.id, small.id]
    latest = await f.national_issue(db, talas["c6"], "Работа местного кенеша", topic="kenesh")
    assert (await ni.list_issues(db, talas["c5"])).issues[0].id == big.id
    newest = await ni.list_issues(db, talas["c5"], ni.Filters(newest=True))
    assert [i.id for i in newest.issues] == [latest.id, big.id, small.id]
    only = await ni.list_issues(db, talas["c5"], ni.Filters(topic="utilities"))
    assert [i.id for i in only.issues] == [small.id]
    by_body = await ni.list_issues(db, talas["c5"], ni.Filters(
        body=await f.state_body_id(db, "tax-service")))
    assert [i.id for i in by_body.issues] == [big.id]
    batken = await f.region_of(db, await f.district_id(db, "leylek"))
    in_batken = await ni.list_issues(db, talas["c5"], ni.Filters(region=batken))
    assert [i.id for i in in_batken.issues] == [big.id]  # Leylek co-signers stand behind it
    await ni.start_review(db, talas["staff"], small.id)
    reviewed = await ni.list_issues(db, talas["c5"], ni.Filters(state="review"))
    assert [i.id for i in reviewed.issues] == [small.id]


async def test_a_restricted_issue_is_seen_only_by_its_author_and_the_staff(
    db: Database, talas: dict[str, int]
) -> None:
    secret = await f.national_issue(db, talas["author"], "Давление на айыл окмоту",
                                    restricted=True)
    assert secret.id is not None
    assert secret.id not in [i.id for i in (await ni.list_issues(db, talas["c0"])).issues]
    with pytest.raises(NotFound):
        await ni.card(db, talas["c0"], secret.id, "ru")
    with pytest.raises(NotFound):
        await ni.cosign(db, talas["c0"], secret.id)
    with pytest.raises(NotFound):
        await ni.documents(db, talas["c0"], secret.id)
    assert secret.id in [i.id for i in (await ni.list_issues(db, talas["author"])).issues]
    assert secret.id in [i.id for i in (await ni.list_issues(db, talas["staff"])).issues]
    assert (await ni.card(db, talas["staff"], secret.id, "ru")).issue.restricted


async def test_every_state_change_reaches_the_author_and_each_cosigner_once(
    db: Database, talas: dict[str, int]
) -> None:
    minfin = await f.state_body_id(db, "minfin")
    issue = await f.national_issue(db, talas["author"], state_body_id=minfin)
    assert issue.id is not None
    for n in (0, 1, 2):
        await ni.cosign(db, talas[f"c{n}"], issue.id)
    behind = sorted([talas["author"], talas["c0"], talas["c1"], talas["c2"]])

    await ni.start_review(db, talas["staff"], issue.id)
    assert await state_notices(db, issue.id, "review") == behind
    with pytest.raises(InvalidState):
        await ni.start_review(db, talas["staff"], issue.id)  # already under review
    with pytest.raises(InvalidState):
        await ni.record_response(db, talas["staff"], issue.id, "Ответ")  # not forwarded yet

    dossier = await dossiers.create_dossier(db, talas["staff"], minfin)
    assert dossier.id is not None
    with pytest.raises(InvalidState):
        await dossiers.record_sent(db, talas["staff"], dossier.id, "письмо", "01-12/345")
    await dossiers.add_to_dossier(db, talas["staff"], dossier.id, issue.id)
    sent = await dossiers.record_sent(db, talas["staff"], dossier.id, "официальное письмо",
                                      "01-12/345")
    assert sent.status == DossierStatus.SENT and sent.reference_number == "01-12/345"
    assert await state_notices(db, issue.id, "forwarded") == behind
    with pytest.raises(InvalidState):
        await dossiers.add_to_dossier(db, talas["staff"], dossier.id, issue.id)

    answered = await dossiers.record_dossier_response(
        db, talas["staff"], dossier.id, "Министерство подготовит поправки.",
        [{"file_id": "F1", "name": "otvet.pdf", "size": 1000, "mime": "application/pdf"}])
    assert answered.status == DossierStatus.ANSWERED
    assert await state_notices(db, issue.id, "responded") == behind
    await ni.resolve(db, talas["staff"], issue.id)
    assert await state_notices(db, issue.id, "resolved") == behind
    async with db.read() as s:
        final = await s.get(NationalIssue, issue.id)
    assert final is not None and final.state == IssueState.RESOLVED
    assert final.response_text == "Министерство подготовит поправки."
    with pytest.raises(InvalidState):
        await ni.cosign(db, talas["c5"], issue.id)  # closed


async def test_an_issue_forwarded_without_a_dossier_gets_its_own_response(
    db: Database, talas: dict[str, int]
) -> None:
    issue = await f.national_issue(db, talas["author"])
    assert issue.id is not None
    await ni.cosign(db, talas["c0"], issue.id)
    with pytest.raises(InvalidInput):
        await ni.forward(db, talas["staff"], issue.id)  # no state body yet
    tax = await f.state_body_id(db, "tax-service")
    forwarded = await ni.forward(db, talas["staff"], issue.id, tax)
    assert forwarded.state == IssueState.FORWARDED and forwarded.state_body_id == tax
    assert await state_notices(db, issue.id, "forwarded") == sorted([talas["author"],
                                                                     talas["c0"]])
    with pytest.raises(InvalidInput) as long:
        await ni.record_response(db, talas["staff"], issue.id, "о" * 10_000)
    assert long.value.params["limit"] == ni.RESPONSE_MAX
    answered = await ni.record_response(db, talas["staff"], issue.id,
                                        "Налоговая служба разъяснит порядок.")
    assert answered.state == IssueState.RESPONDED
    assert await state_notices(db, issue.id, "responded") == sorted([talas["author"],
                                                                     talas["c0"]])


async def test_declining_needs_a_reason_and_tells_everyone_behind_it(
    db: Database, talas: dict[str, int]
) -> None:
    issue = await f.national_issue(db, talas["author"])
    assert issue.id is not None
    await ni.cosign(db, talas["c0"], issue.id)
    with pytest.raises(InvalidInput):
        await ni.decline(db, talas["staff"], issue.id, " ")
    declined = await ni.decline(db, talas["staff"], issue.id, "Вопрос решается на местном уровне.")
    assert declined.decline_reason == "Вопрос решается на местном уровне."
    assert await state_notices(db, issue.id, "declined") == sorted([talas["author"],
                                                                    talas["c0"]])


async def test_merging_carries_cosigners_without_counting_anyone_twice(
    db: Database, talas: dict[str, int]
) -> None:
    target = await f.national_issue(db, talas["author"], "Земельный налог")
    duplicate = await f.national_issue(db, talas["c0"], "Налог на землю уходит из района")
    assert target.id and duplicate.id
    await ni.cosign(db, talas["c1"], target.id)
    await ni.cosign(db, talas["c1"], duplicate.id)  # behind both: counts once after the merge
    await ni.cosign(db, talas["c2"], duplicate.id)
    await ni.cosign(db, talas["author"], duplicate.id)  # the target's author, also behind both
    backing = await ni.merge(db, talas["staff"], duplicate.id, target.id)
    # author, c1 (already behind) + c0 (the duplicate's author) and c2 carried over.
    assert backing.members == 4
    async with db.read() as s:
        merged = await s.get(NationalIssue, duplicate.id)
        rows = (await s.exec(select(IssueCosign).where(IssueCosign.issue_id == target.id))).all()
    assert merged is not None and merged.state == IssueState.MERGED
    assert merged.merged_into_id == target.id
    assert sorted(r.member_id for r in rows) == sorted([talas["c0"], talas["c1"], talas["c2"]])
    assert {r.carried_from_id for r in rows if r.member_id != talas["c1"]} == {duplicate.id}
    # Everyone behind the merged issue hears where it went, once.
    assert await state_notices(db, duplicate.id, "merged") == sorted(
        [talas["author"], talas["c0"], talas["c1"], talas["c2"]])
    with pytest.raises(InvalidState):
        await ni.merge(db, talas["staff"], target.id, duplicate.id)  # into a merged issue
    with pytest.raises(InvalidState):
        await ni.merge(db, talas["staff"], target.id, target.id)
    secret = await f.national_issue(db, talas["c3"], "Закрытая", restricted=True)
    assert secret.id is not None
    with pytest.raises(InvalidState):  # its backers would learn of the restricted issue
        await ni.merge(db, talas["staff"], target.id, secret.id)
    assert duplicate.id not in [i.id for i in (await ni.list_issues(db, talas["c5"])).issues]


async def test_only_staff_triage_build_dossiers_and_export(
    db: Database, talas: dict[str, int]
) -> None:
    issue = await f.national_issue(db, talas["author"])
    assert issue.id is not None
    leader = await f.leader(db, "Районный Лидер", "talas", "finance")
    minfin = await f.state_body_id(db, "minfin")
    for who in (talas["author"], talas["c0"], leader.id):
        with pytest.raises(PermissionDenied):
            await ni.start_review(db, who, issue.id)
        with pytest.raises(PermissionDenied):
            await ni.decline(db, who, issue.id, "Нет")
        with pytest.raises(PermissionDenied):
            await ni.resolve(db, who, issue.id)
        with pytest.raises(PermissionDenied):
            await dossiers.create_dossier(db, who, minfin)
        with pytest.raises(PermissionDenied):
            await issue_exports.issues_csv(db, who, export_words("ru"))
    pending = await f.applicant(db, "Ждущий Заявитель", district="talas")
    with pytest.raises(PermissionDenied):
        await f.national_issue(db, pending.id)
    async with db.read() as s:
        still = await s.get(NationalIssue, issue.id)
    assert still is not None and still.state == IssueState.NEW


async def test_a_new_dossier_with_a_closed_issue_is_not_created_at_all(
    db: Database, talas: dict[str, int]
) -> None:
    issue = await f.national_issue(db, talas["author"])
    assert issue.id is not None
    await ni.decline(db, talas["staff"], issue.id, "Не по адресу.")
    minfin = await f.state_body_id(db, "minfin")
    with pytest.raises(InvalidState):
        await dossiers.create_dossier(db, talas["staff"], minfin, [issue.id])
    assert await dossiers.recent(db, talas["staff"], "ru") == []


async def test_bad_input_is_refused_with_the_limit_and_nothing_is_written(
    db: Database, talas: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as long:
        await f.national_issue(db, talas["author"], problem="я" * 10_000)
    assert long.value.params["limit"] == ni.TEXT_MAX
    with pytest.raises(InvalidInput):
        await f.national_issue(db, talas["author"], title="ab")
    with pytest.raises(InvalidInput):
        await f.national_issue(db, talas["author"], topic="weather")
    with pytest.raises(InvalidInput) as kind:
        ni.check_document("virus.exe", 100, "application/octet-stream")
    assert kind.value.code == "file_type"
    with pytest.raises(InvalidInput) as size:
        ni.check_document("big.pdf", 25 * 1024 * 1024, "application/pdf")
    assert size.value.params["limit"] == 20
    docs = [{"file_id": f"F{n}", "name": f"d{n}.pdf", "size": 10} for n in range(11)]
    with pytest.raises(InvalidInput) as many:
        await f.national_issue(db, talas["author"], documents=docs)
    assert many.value.params["limit"] == 10
    async with db.read() as s:
        assert (await s.exec(select(NationalIssue))).all() == []


async def test_the_exports_carry_the_issues_their_backing_and_districts(
    db: Database, talas: dict[str, int]
) -> None:
    minfin = await f.state_body_id(db, "minfin")
    issue = await f.national_issue(db, talas["author"], state_body_id=minfin,
                                   cause="Статья 5 Налогового кодекса.")
    assert issue.id is not None
    for n in range(4):
        await ni.cosign(db, talas[f"c{n}"], issue.id)
    dossier = await dossiers.create_dossier(db, talas["staff"], minfin)
    assert dossier.id is not None
    await dossiers.add_to_dossier(db, talas["staff"], dossier.id, issue.id)
    await dossiers.record_sent(db, talas["staff"], dossier.id, "официальное письмо", "01-12/345")

    letter = Document(io.BytesIO(await issue_exports.dossier_docx(
        db, talas["staff"], dossier.id, export_words("ru"))))
    text = "\n".join(p.text for p in letter.paragraphs)
    assert "Министерство финансов" in text
    assert "01-12/345" in text
    assert f"Земельный налог (P-{issue.id})" in text
    with in_locale("ru"):
        assert "5 муниципалитетов" in text  # Omuraliev, Kargalyk, Toguz-Bulak, Katran, Sumbula
    assert "Лейлекский район" in text and "Таласский район" in text
    assert "Зачислять земельный налог в местный бюджет полностью." in text
    assert "Статья 5 Налогового кодекса." in text
    ky = Document(io.BytesIO(await issue_exports.dossier_docx(
        db, talas["staff"], dossier.id, export_words("ky"))))
    assert "Финансы министрлиги" in "\n".join(p.text for p in ky.paragraphs)

    book = load_workbook(io.BytesIO(await issue_exports.issues_xlsx(
        db, talas["staff"], export_words("ru"))))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["Номер", "Название", "Тема"]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Номер"] == f"P-{issue.id}"
    assert first["Муниципалитеты"] == 5 and first["Районы"] == 3
    assert "Министерство финансов" in str(first["Госорган"])

    text_csv = await issue_exports.issues_csv(db, talas["staff"], export_words("ky"))
    parsed = list(csv.reader(io.StringIO(text_csv)))
    assert parsed[0][0] == export_words("ky").columns["id"] != "Номер"
    assert parsed[1][0] == f"P-{issue.id}" and parsed[1][7] == "5"


async def test_state_bodies_are_reference_data_staff_edit_by_csv(db: Database) -> None:
    bodies = await reference.state_bodies(db, "ru")
    names = [b.name for b in bodies]
    assert "Министерство финансов" in names and "Кабинет Министров Кыргызской Республики" in names
    assert len(bodies) >= 12
    report = await reference.import_reference(db, "\n".join([
        ",".join(reference.COLUMNS),
        "state_body,minfin,,Финансы министрлиги,Министерство финансов КР,Ministry of Finance,20,"
        "ministry",
        "state_body,ombudsman,,Акыйкатчы,Акыйкатчы (Омбудсмен),Ombudsman,40,agency"]))
    assert (report.created, report.updated) == (1, 1)
    exported = await reference.export_reference(db)
    assert "state_body,ombudsman,,Акыйкатчы" in exported
    assert "Министерство финансов КР" in exported


async def test_the_sandbox_demo_has_two_issues_and_one_is_forwarded_in_a_dossier_and_answered(
    db: Database,
) -> None:
    from bot.sandbox import demo

    made = await demo.populate(db)
    listed = await ni.list_issues(db, made.ids["staff"])
    assert len(listed.issues) == 2
    land, order = listed.issues
    # Forwarded in a dossier, then answered by the Ministry of Finance's liaison (demo_vertical).
    assert land.state == IssueState.RESPONDED and land.municipalities_count == 7
    assert order.state == IssueState.NEW and order.members_count == 3
    [dossier] = await dossiers.recent(db, made.ids["staff"], "ru")
    assert dossier.dossier.reference_number == "01-12/345" and dossier.issues[0].id == land.id
