"""Member import and export: the Union brings its spreadsheet of district leaders into Birge."""

from __future__ import annotations

import csv
import io
from collections import Counter

from sqlmodel import col, select

from bot.services import members
from bot.services.member_import import ImportReport, export_members, import_members
from bot.services.members import Application
from bot.services.reference import SHIPPED
from storage.db import Database
from storage.enums import MemberStatus, Position, Role
from storage.models import (
    AuditLog,
    Community,
    CommunityMembership,
    District,
    Member,
    Municipality,
    RoleAssignment,
)
from tests import factories as f

HEADER = "full_name,telegram,position,district,municipality,communities,leads,roles,language"
FIRST = ("Aibek", "Gulnara", "Bakyt", "Asel", "Nurlan", "Ainura", "Talant", "Cholpon")
LAST = ("Asanov", "Toktosunova", "Osmonov", "Mamatova", "Abdyldaev", "Sydykova", "Zhusupov")


def district_codes() -> list[str]:
    with SHIPPED.open(encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh) if row["kind"] == "district"]


def leaders_csv() -> str:
    """The Union's sheet: a head, a finance officer and a deputy leading each of the 40 districts.

    Telegram is written three ways, as staff really do: numeric ids, @usernames, bare usernames.
    """
    lines = [HEADER]
    for i, code in enumerate(district_codes()):
        handle = code.replace("-", "_")
        name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
        lines += [
            f"{name},{700_000_000 + i},head_ao,{code},,heads,heads,,ky",
            f"{name}a,@Fin_{handle},finance,{code},,finance,finance,,ru",
            f"{name}ov,dep_{handle},deputy,{code},,deputies,deputies,,",
        ]
    return "\n".join(lines) + "\n"


async def all_members(db: Database) -> list[Member]:
    async with db.read() as s:
        return list((await s.exec(select(Member).order_by(col(Member.id)))).all())


async def leader_roles(db: Database) -> list[RoleAssignment]:
    async with db.read() as s:
        query = select(RoleAssignment).where(RoleAssignment.role == Role.DISTRICT_LEADER)
        return list((await s.exec(query)).all())


def lines_of(report: ImportReport) -> list[int]:
    return [e.line for e in report.errors]


async def test_the_union_imports_the_120_district_leaders_and_each_district_has_one_leader_per_community(  # noqa: E501
    db: Database,
):
    seen: list[tuple[int, int]] = []
    report = await import_members(db, leaders_csv().encode(),
                                  progress=lambda done, total: seen.append((done, total)))

    assert (report.created, report.updated, report.unchanged, report.errors) == (120, 0, 0, [])
    assert seen[-1] == (120, 120) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    people = await all_members(db)
    assert len(people) == 120
    assert {m.status for m in people} == {MemberStatus.INVITED}
    assert all(m.region_id is not None and m.district_id is not None for m in people)
    usernames = {m.username for m in people if m.username}
    assert "fin_leylek" in usernames and "dep_leylek" in usernames  # lowercased, no @
    assert sum(1 for m in people if m.telegram_id) == 40

    roles = await leader_roles(db)
    assert len(roles) == 120
    per_district = Counter(r.district_id for r in roles)
    assert len(per_district) == 40 and set(per_district.values()) == {3}
    assert len({(r.community_id, r.district_id) for r in roles}) == 120
    async with db.read() as s:
        audit = (await s.exec(select(AuditLog).where(AuditLog.action == "members_import"))).one()
        heads = (await s.exec(select(Community).where(Community.code == "heads"))).one()
        in_heads = (
            await s.exec(
                select(CommunityMembership).where(CommunityMembership.community_id == heads.id)
            )
        ).all()
    assert audit.details["created"] == 120 and audit.actor_id is None
    assert len(in_heads) == 40


async def test_a_file_with_two_bad_rows_imports_nothing_and_names_both_lines(db: Database):
    text = "\n".join([
        HEADER,
        "Aibek Asanov,@aibek_asanov,head_ao,leylek,,,,,",
        "Gulnara Toktosunova,@gulnara_t,finance,Atlantis,,,,,",
        "Bakyt Osmonov,@bakyt_o,deputy,talas,,,,,",
        "Asel Mamatova,@a b,chief,talas,,,,,",
    ]).encode()

    report = await import_members(db, text)

    assert lines_of(report) == [3, 5]
    assert "district" in report.errors[0].reason and "Atlantis" in report.errors[0].reason
    assert "telegram" in report.errors[1].reason and "position" in report.errors[1].reason
    assert report.created == 0
    assert await all_members(db) == []


async def test_skip_bad_imports_the_good_rows(db: Database):
    text = "\n".join([
        HEADER,
        "Aibek Asanov,@aibek_asanov,head_ao,leylek,,,,,",
        "Gulnara Toktosunova,@gulnara_t,finance,Atlantis,,,,,",
        "Bakyt Osmonov,@bakyt_o,deputy,talas,,,,,",
        "Asel Mamatova,12345,deputy,talas,Katran,,,,",
        ",@nameless,deputy,talas,,,,,",
        "Nurlan Abdyldaev,@nurlan_a,deputy,talas,,,,wizard,",
    ]).encode()

    report = await import_members(db, text, skip_bad=True)

    assert (report.created, lines_of(report)) == (2, [3, 5, 6, 7])
    reasons = [e.reason for e in report.errors]
    assert "municipality" in reasons[1] and "Katran" in reasons[1]
    assert reasons[2].startswith("full_name: missing")
    assert "roles" in reasons[3] and "wizard" in reasons[3]
    assert sorted(m.username or "" for m in await all_members(db)) == ["aibek_asanov", "bakyt_o"]


async def test_importing_the_same_file_twice_changes_nothing(db: Database):
    raw = leaders_csv().encode()
    await import_members(db, raw)
    again = await import_members(db, raw)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 120, [])
    assert len(await all_members(db)) == 120
    assert len(await leader_roles(db)) == 120


async def test_a_changed_row_updates_the_member_and_keeps_roles_not_in_the_file(db: Database):
    await import_members(db, f"{HEADER}\nAibek Asanov,@aibek,head_ao,leylek,,heads,heads,moderator,"
                             .encode())
    report = await import_members(db, f"{HEADER}\nAibek Asanovich,@AIBEK,head_ao,leylek,Katran,"
                                      "heads;secretaries,,expert,en".encode())
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    [m] = await all_members(db)
    assert (m.full_name, m.language) == ("Aibek Asanovich", "en")
    async with db.read() as s:
        roles = {r.role for r in (await s.exec(select(RoleAssignment))).all()}
        katran = (await s.exec(select(Municipality).where(Municipality.code == "katran"))).one()
    assert roles == {Role.DISTRICT_LEADER, Role.MODERATOR, Role.EXPERT}
    assert m.municipality_id == katran.id


async def test_a_cp1251_file_with_semicolons_from_excel_imports(db: Database):
    text = "\r\n".join([
        "ФИО;Telegram;Position;District;Municipality;Communities;Leads;Roles;Language;Примечание",
        "Гульнара Токтосунова;@gulnara_t;Глава АО;Лейлекский район;Катран;Главы АО, Финансисты;"
        "heads;;ru;звонить утром",
        "Бакыт Осмонов;12345678;финансист;Таласский;;;;;ky;",
        ";;;;;;;;;",
    ]) + "\r\n"

    report = await import_members(db, text.encode("cp1251"))

    assert (report.created, report.errors) == (2, [])
    gulnara, bakyt = await all_members(db)
    assert gulnara.full_name == "Гульнара Токтосунова" and gulnara.position == Position.HEAD_AO
    assert gulnara.district_id == await f.district_id(db, "leylek")
    assert gulnara.municipality_id == await f.municipality_id(db, "katran")
    assert (bakyt.telegram_id, bakyt.position) == (12345678, Position.FINANCE)
    assert bakyt.district_id == await f.district_id(db, "talas")


async def test_names_in_russian_and_kyrgyz_are_recognised(db: Database):
    text = "\n".join([
        HEADER,
        "Айгүл Сыдыкова,@aigul_s,Айыл өкмөт башчысы,Ноокен району,,,Айыл өкмөт башчылары,,ky",
        "Талант Жусупов,@talant_j,депутат местного кенеша,Джети-Огузский район,,,,,",
        "Чолпон Асанова,@cholpon_a,Жооптуу катчы,Ак-Суу,,Жооптуу катчылар,,,",
        "Нурлан Абдылдаев,@nurlan_a,ответственный секретарь,Chatkal District,Терек-Сай,,,,",
        "Азамат Беков,@azamat_b,Expert or lawyer,город Бишкек,,,,union staff,",
        "Aibek Asanov,@aibek_a,глава айыл окмоту,TALAS,,,,,",
    ]).encode()

    report = await import_members(db, text)

    assert report.errors == [] and report.created == 6
    exported = list(csv.DictReader(io.StringIO(await export_members(db))))
    by_tg = {row["telegram"]: row for row in exported}
    assert (by_tg["@aigul_s"]["position"], by_tg["@aigul_s"]["district"]) == ("head_ao", "nooken")
    assert by_tg["@aigul_s"]["leads"] == "heads" and by_tg["@aigul_s"]["communities"] == "heads"
    assert (by_tg["@talant_j"]["position"], by_tg["@talant_j"]["district"]) == (
        "deputy", "jeti-oguz")
    assert by_tg["@talant_j"]["communities"] == "deputies"  # the position's community by default
    assert by_tg["@cholpon_a"]["communities"] == "secretaries"
    assert by_tg["@nurlan_a"]["municipality"] == "terek-sai"
    assert (by_tg["@azamat_b"]["district"], by_tg["@azamat_b"]["roles"]) == (
        "bishkek-city", "union_staff")
    assert by_tg["@aibek_a"]["district"] == "talas" and by_tg["@aibek_a"]["language"] == "ru"


async def test_export_then_import_is_unchanged(db: Database):
    await import_members(db, leaders_csv().encode())
    await import_members(db, f"{HEADER}\nAsel Mamatova,@asel_m,secretary,leylek,katran,"
                             "secretaries;heads,,moderator;expert,en".encode())
    admin = await f.staff(db, 4242, "Union Admin")
    applicant = await f.applicant(db, "Nurlan Abdyldaev", telegram_id=777, district="chatkal",
                                  municipality="kok-oy")
    rejected = await f.applicant(db, "Bakyt Osmonov", telegram_id=778, username="Bakyt_O")
    await members.reject_member(db, admin, rejected.id)

    exported = await export_members(db)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 123  # 120 leaders, Asel, the admin and the applicant; not the rejected
    assert "778" not in {r["telegram"] for r in rows} and "@bakyt_o" not in exported
    assert {"full_name": "Asel Mamatova", "telegram": "@asel_m", "position": "secretary",
            "district": "leylek", "municipality": "katran", "communities": "heads;secretaries",
            "leads": "", "roles": "expert;moderator", "language": "en"} in rows

    report = await import_members(db, exported.encode())
    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 123, [])
    assert (await members.by_id(db, applicant.id)).status == MemberStatus.PENDING  # type: ignore[union-attr]
    assert await export_members(db) == exported


async def test_an_imported_leader_who_opens_the_bot_is_approved_at_once(db: Database):
    await import_members(db, "\n".join([
        HEADER,
        "Gulnara Toktosunova,@Gulnara_T,head_ao,leylek,,heads,heads,,ru",
        "Bakyt Osmonov,555000111,finance,leylek,,finance,finance,,ky",
    ]).encode())
    leylek = await f.district_id(db, "leylek")
    app = Application(full_name="Gulnara Toktosunova", language="ru", position=Position.HEAD_AO,
                      region_id=await f.region_of(db, leylek), district_id=leylek,
                      community_ids=[await f.community_id(db, "heads")])

    by_username = await members.submit_application(db, 901, "Gulnara_T", app)
    app.full_name, app.position = "Bakyt Osmonov", Position.FINANCE
    app.community_ids = [await f.community_id(db, "finance")]
    by_id = await members.submit_application(db, 555000111, None, app)

    for result in (by_username, by_id):
        assert result.pre_approved and result.notified == 0
        assert result.member.status == MemberStatus.ACTIVE
        assert Role.DISTRICT_LEADER in result.member.roles
    assert by_username.member.telegram_id == 901
    assert len(await all_members(db)) == 2


async def test_two_rows_leading_one_community_in_one_district_are_both_refused(db: Database):
    report = await import_members(db, "\n".join([
        HEADER,
        "Aibek Asanov,@aibek_a,head_ao,leylek,,,heads,,",
        "Bakyt Osmonov,@bakyt_o,head_ao,Лейлек,,,heads,,",
        "Asel Mamatova,@asel_m,head_ao,talas,,,heads,,",
    ]).encode(), skip_bad=True)
    assert lines_of(report) == [2, 3]
    assert "leads: heads in leylek is also claimed on line 3" in report.errors[0].reason
    assert report.created == 1


async def test_a_leadership_already_held_by_someone_else_is_refused(db: Database):
    sitting = await f.leader(db, "Gulnara Toktosunova", "leylek", "heads", username="gulnara_t")
    report = await import_members(db, f"{HEADER}\nAibek Asanov,@aibek_a,head_ao,Leylek,,,heads,,"
                                  .encode())
    assert lines_of(report) == [2]
    assert f"already led by Gulnara Toktosunova (member #{sitting.id})" in report.errors[0].reason
    assert report.created == 0
    herself = await import_members(db, f"{HEADER}\nGulnara Toktosunova,@gulnara_t,head_ao,"
                                       "leylek,,heads,heads,,".encode())
    assert (herself.errors, herself.unchanged) == ([], 1)


async def test_the_same_person_twice_in_the_file_is_refused(db: Database):
    report = await import_members(db, "\n".join([
        HEADER,
        "Aibek Asanov,@Aibek_A,head_ao,leylek,,,,,",
        "Bakyt Osmonov,@bakyt_o,deputy,leylek,,,,,",
        "Aibek Asanov,aibek_a,finance,leylek,,,,,",
    ]).encode())
    assert lines_of(report) == [2, 4]
    assert "same person as on line 4" in report.errors[0].reason
    assert await all_members(db) == []


async def test_a_file_without_the_needed_columns_is_refused_on_line_1(db: Database):
    report = await import_members(db, b"name;phone\nAibek Asanov;+996555000000\n")
    assert lines_of(report) == [1]
    assert "telegram" in report.errors[0].reason and "position" in report.errors[0].reason
    async with db.read() as s:
        assert (await s.exec(select(District))).first() is not None  # reference data untouched
