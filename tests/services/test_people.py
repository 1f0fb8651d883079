"""People, places and personal data at the service level: municipality names (suggestions,
pending names, merging), the directory and its relayed messages, the export and deletion."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.services import legal, people, places, privacy, questions
from bot.services import national_issues as ni
from bot.services.errors import InvalidInput, InvalidState, PermissionDenied
from bot.services.questions import QuestionDraft
from storage.db import Database
from storage.enums import LegalCategory, MemberStatus, MunicipalityStatus, Role
from storage.models import LegalCase, Member, Municipality, NationalIssue
from storage.types import utcnow
from tests import factories as f


async def test_spellings_across_alphabets_fold_to_one_key() -> None:
    assert {places.key(n) for n in ("Kara-Kul", "Каракуль", "Кара-Куль", "город Кара-Куль",
                                    "Kara-Kul town")} == {"karakul"}


async def test_a_typed_name_is_suggested_the_known_municipality_of_the_district(
        db: Database) -> None:
    toktogul = await f.district_id(db, "toktogul")
    found = await places.suggest(db, toktogul, "Каракуль", "ru")
    assert [s.name for s in found] == ["город Кара-Куль"]
    leylek = await f.district_id(db, "leylek")
    assert next(s.name for s in await places.suggest(db, leylek, "Катиран", "ru")) == \
        "Катранский айылный аймак"
    for bad in ("К", "x" * 300):
        with pytest.raises(InvalidInput):
            await places.suggest(db, leylek, bad, "ru")


async def test_a_new_name_waits_and_a_merge_moves_members_issues_and_cosigns_once(
        db: Database) -> None:
    staff = await f.staff(db)
    leader = await f.leader(db, "Канат Бейшеев", "toktogul", "heads", municipality="kara-kul")
    typed = [await f.member(db, name, district="toktogul", municipality_other=other)
             for name, other in (("Айгүл Токтогулова", "Кара-Кол-Жаны"),
                                 ("Бекжан Мамытов", "Кара Кол Жаны"))]
    assert typed[0].municipality_id == typed[1].municipality_id  # one spelling key, one row
    pending_id = typed[0].municipality_id
    assert pending_id is not None
    async with db.read() as s:
        row = await s.get(Municipality, pending_id)
        assert row is not None and row.status == MunicipalityStatus.PENDING
    waiting = await places.pending(db, leader.id, "ru")
    assert [p.id for p in waiting] == [pending_id] and waiting[0].members == 2
    # An issue raised from the typed place, co-signed from the real one and the typed one.
    issue = await f.national_issue(db, typed[0].id)
    assert issue.id is not None
    await ni.cosign(db, typed[1].id, issue.id)
    await ni.cosign(db, leader.id, issue.id)
    async with db.read() as s:
        before = await s.get(NationalIssue, issue.id)
        assert before is not None and before.municipalities_count == 2

    with pytest.raises(InvalidInput):
        await places.merge(db, leader.id, pending_id, pending_id)
    outsider = await f.leader(db, "Эркин Талас", "talas", "heads")
    with pytest.raises(PermissionDenied):
        await places.merge(db, outsider.id, pending_id, await f.municipality_id(db, "kara-kul"))
    merged = await places.merge(db, leader.id, pending_id,
                                await f.municipality_id(db, "kara-kul"))
    assert merged.moved == {"member": 2, "national_issue": 1, "issue_cosign": 1}
    async with db.read() as s:
        after = await s.get(NationalIssue, issue.id)
        assert after is not None and after.municipalities_count == 1
        assert after.members_count == 3
    with pytest.raises(InvalidState):
        await places.merge(db, staff, pending_id, await f.municipality_id(db, "kara-kul"))


async def test_a_leader_adds_and_confirms_their_districts_municipalities(db: Database) -> None:
    leader = await f.leader(db, "Канат Бейшеев", "leylek", "heads")
    leylek = await f.district_id(db, "leylek")
    added = await places.add(db, leader.id, leylek, "Кулунду")
    assert added.status == MunicipalityStatus.CONFIRMED
    with pytest.raises(InvalidState):
        await places.add(db, leader.id, leylek, "Kulundu")
    with pytest.raises(PermissionDenied):
        await places.add(db, leader.id, await f.district_id(db, "talas"), "Кок-Сай")
    typed = await f.member(db, "Айгүл Токтогулова", district="leylek", municipality_other="Ак-Суу")
    assert typed.municipality_id is not None
    confirmed = await places.confirm(db, leader.id, typed.municipality_id)
    assert confirmed.active
    with pytest.raises(InvalidState):
        await places.confirm(db, leader.id, typed.municipality_id)


async def test_the_directory_lists_leaders_first_and_hides_who_chose_to_hide(
        db: Database) -> None:
    asker = await f.member(db, "Асель Маматова", district="leylek", communities=("finance",))
    plain = await f.member(db, "Бакыт Абдылдаев", district="leylek", communities=("finance",))
    lead = await f.leader(db, "Жылдыз Касымова", "leylek", "finance")
    leylek = await f.district_id(db, "leylek")
    finance = await f.community_id(db, "finance")
    page = await people.search(db, asker.id, people.Filters(leylek, community_id=finance), "ru")
    assert next(r.name for r in page.rows) == "Жылдыз Касымова" and page.rows[0].leads
    await people.set_listing(db, plain.id, hidden=True)
    await people.set_listing(db, lead.id, hidden=True)
    names = [r.name for r in (await people.search(db, asker.id, people.Filters(leylek),
                                                  "ru")).rows]
    assert "Бакыт Абдылдаев" not in names and "Жылдыз Касымова" in names
    staff = await f.staff(db)
    names = [r.name for r in (await people.search(db, staff, people.Filters(leylek),
                                                  "ru")).rows]
    assert "Бакыт Абдылдаев" in names
    for query in ('"Жылдыз" OR 1=1 --', "NEAR(*)", "x" * 90):
        assert (await people.search(db, asker.id, people.Filters(query=query), "ru")).total == 0
    with pytest.raises(InvalidInput):
        await people.search(db, asker.id, people.Filters(query="ж" * 2000), "ru")
    assert (await people.search(db, asker.id, people.Filters(query="zhyldyz"), "ru")).total == 1


async def test_writing_is_relayed_limited_and_blockable(db: Database) -> None:
    writer = await f.member(db, "Асель Маматова", district="leylek")
    targets = [await f.member(db, f"Коллега Номер{chr(0x430 + i)}", district="talas")
               for i in range(3)]
    for t in targets[:2]:
        await people.write(db, writer.id, t.id, people.Draft("Саламатсызбы!"), new_per_day=2)
    with pytest.raises(InvalidState) as limit:
        await people.write(db, writer.id, targets[2].id, people.Draft("Салам"), new_per_day=2)
    assert limit.value.code == "people_limit"
    # Writing again to someone already written to is not a new person.
    await people.write(db, writer.id, targets[0].id, people.Draft("Дагы бир"), new_per_day=2)
    await people.block(db, targets[0].id, writer.id)
    with pytest.raises(InvalidState):
        await people.write(db, writer.id, targets[0].id, people.Draft("Эй"), new_per_day=2)
    with pytest.raises(InvalidInput):
        people.clean_message("ы" * 10_000, None)
    with pytest.raises(InvalidInput):
        people.clean_message("", {"file_id": "x", "name": "virus.exe", "size": 10})


async def test_the_export_holds_every_kind_of_record(db: Database) -> None:
    m = await f.member(db, "Асель Маматова", district="leylek")
    export = await privacy.export_my_data(db, m.id, m.id)
    with zipfile.ZipFile(io.BytesIO(export.data)) as z:
        data = json.loads(z.read("birge-data.json"))
        book = load_workbook(io.BytesIO(z.read("birge-data.xlsx")))
    assert data["profile"][0]["full_name"] == "Асель Маматова"
    assert set(privacy.sections()) <= set(book.sheetnames)
    other = await f.member(db, "Бакыт Осмонов", district="talas")
    with pytest.raises(PermissionDenied):
        await privacy.export_my_data(db, other.id, m.id)


async def test_the_spreadsheet_shows_a_question_as_the_member_typed_it(db: Database) -> None:
    m = await f.member(db, "Асель Маматова", district="leylek")
    typed = 'Бюджет <2027> & "салык" — кантип?\x07 Жооп\nкүтөм'
    await questions.ask_question(db, m.id, QuestionDraft(await f.group_id(db, "budget"), typed))
    export = await privacy.export_my_data(db, m.id, m.id)
    with zipfile.ZipFile(io.BytesIO(export.data)) as z:
        book = load_workbook(io.BytesIO(z.read("birge-data.xlsx")))
    rows = list(book["questions"].iter_rows(values_only=True))
    header, first = rows[0], rows[1]
    assert first[header.index("text")] == typed.replace("\x07", "")
    assert first[header.index("anonymous")] is False
    assert isinstance(first[header.index("id")], int)
    assert list(book["legal_cases"].iter_rows(values_only=True)) == [("(none)",)]


async def test_deletion_is_the_owners_alone_and_legal_cases_expire(db: Database) -> None:
    m = await f.member(db, "Асель Маматова", district="leylek")
    other = await f.member(db, "Бакыт Осмонов", district="talas")
    staff = await f.staff(db)
    await legal.open_case(db, m.id, legal.Intake(LegalCategory.LAND, "Жер маселеси боюнча "
                                                  "суроо бар.", consent=True))
    for actor in (other.id, staff):
        with pytest.raises(PermissionDenied):
            await privacy.delete_account(db, actor, m.id)
    done = await privacy.delete_account(db, m.id, m.id)
    assert done.legal_cases_kept == 1
    with pytest.raises(InvalidState):
        await privacy.delete_account(db, m.id, m.id)
    async with db.read() as s:
        row = await s.get(Member, m.id)
        assert row is not None and row.status == MemberStatus.DELETED and row.full_name == ""
    assert await privacy.erase_expired_cases(db, utcnow(), 1095) == 0
    assert await privacy.erase_expired_cases(db, utcnow() + timedelta(days=1096), 1095) == 1
    async with db.read() as s:
        assert (await s.exec(select(LegalCase))).all() == []
    assert Role.MEMBER


async def test_the_reference_import_reports_its_progress(db: Database) -> None:
    from bot.cli import ProgressBar
    from bot.services import reference

    rows = ["kind,code,parent,name_ky,name_ru,name_en,sort,extra"] + [
        f"municipality,new-{n},leylek,Айыл {n},Айыл {n},Aiyl {n},0,aiyl_aimak" for n in range(25)]
    out = io.StringIO()
    bar = ProgressBar(out)
    report = await reference.import_reference(db, "\n".join(rows), progress=bar.update)
    bar.done()
    assert report.created == 25
    lines = out.getvalue().splitlines()
    assert lines[-1] == "[" + "#" * 30 + "] 25/25 rows" and len(lines) >= 10


async def test_the_retention_job_erases_a_deleted_members_cases_after_the_configured_time(
        db: Database) -> None:
    from bot.config import Settings
    from bot.jobs import privacy as privacy_job
    from bot.jobs.registry import REGISTRY, JobContext

    assert "privacy.retention" in REGISTRY
    m = await f.member(db, "Асель Маматова", district="leylek")
    await legal.open_case(db, m.id, legal.Intake(LegalCategory.LAND, "Жер маселеси боюнча "
                                                  "суроо бар.", consent=True))
    await privacy.delete_account(db, m.id, m.id)
    settings = Settings(_env_file=None, legal_retention_days=30)  # type: ignore[call-arg]
    await privacy_job.erase_expired(JobContext(db, settings, utcnow() + timedelta(days=29)))
    async with db.read() as s:
        assert len((await s.exec(select(LegalCase))).all()) == 1
    await privacy_job.erase_expired(JobContext(db, settings, utcnow() + timedelta(days=31)))
    async with db.read() as s:
        assert (await s.exec(select(LegalCase))).all() == []


async def test_a_merge_counts_a_municipality_once_in_a_per_municipality_survey(
        db: Database) -> None:
    from bot.services.broadcasts import Audience
    from storage.models import SurveyResponse
    from tests.survey_helpers import answer_all, create

    staff = await f.staff(db)
    kara_kul = await f.municipality_id(db, "kara-kul")
    real = await f.member(db, "Самара Осмоналиева", district="toktogul", municipality="kara-kul")
    typed = await f.member(db, "Бекжан Мамытов", district="toktogul",
                           municipality_other="Карак-Куль")
    assert typed.municipality_id is not None and typed.municipality_id != kara_kul
    sid = await create(db, staff, Audience(members=[real.id, typed.id]), per_municipality=True)
    values = {"budget": "no", "gap": 1000, "trust": 5, "problems": ["water"],
              "priority": ["water", "waste", "roads"]}
    await answer_all(db, real.id, sid, values)
    await answer_all(db, typed.id, sid, values)
    await places.merge(db, staff, typed.municipality_id, kara_kul)
    async with db.read() as s:
        counted = (await s.exec(select(SurveyResponse).where(
            SurveyResponse.survey_id == sid, SurveyResponse.submitted_at.is_not(None)))).all()
        kept = (await s.exec(select(SurveyResponse).where(SurveyResponse.survey_id == sid))).all()
    assert [r.key for r in counted] == [f"mu:{kara_kul}"] and len(kept) == 2
