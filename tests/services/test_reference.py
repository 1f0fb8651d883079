"""Reference data ships with Birge and staff can edit it without a code change."""

from __future__ import annotations

from bot.services import reference
from storage.db import Database


async def test_the_seven_oblasts_two_cities_and_forty_districts_exist_in_three_languages(
    db: Database,
) -> None:
    regions = await reference.regions(db, "ky")
    assert len(regions) == 9
    assert sum(1 for r in regions if r.kind == "city") == 2
    total = 0
    for lang in ("ky", "ru", "en"):
        total = 0
        for region in await reference.regions(db, lang):
            total += len(await reference.districts(db, region.id, lang))
        assert total == 40
    batken = next(r for r in await reference.regions(db, "ru") if r.code == "batken")
    names = {d.name for d in await reference.districts(db, batken.id, "ky")}
    assert names == {"Баткен району", "Кадамжай району", "Лейлек району"}


async def test_the_practice_communities_exist_from_the_start(db: Database) -> None:
    codes = [c.code for c in await reference.communities(db, "ru")]
    assert codes == ["heads", "finance", "deputies", "secretaries"]


async def test_staff_rename_a_district_and_add_a_municipality_by_csv(db: Database) -> None:
    csv_text = (
        "kind,code,parent,name_ky,name_ru,name_en,sort,extra\n"
        "district,leylek,batken,Лейлек району,Лейлекский район,Leilek District,3,\n"
        "municipality,kulundu,leylek,Кулунду айыл аймагы,Кулундинский айылный аймак,"
        "Kulundu aiyl aimak,4,aiyl_aimak\n"
    )
    report = await reference.import_reference(db, csv_text)
    assert (report.created, report.updated) == (1, 1)
    again = await reference.import_reference(db, csv_text)
    assert (again.created, again.updated) == (0, 0)
    batken = next(r for r in await reference.regions(db, "en") if r.code == "batken")
    leylek = next(d for d in await reference.districts(db, batken.id, "en") if d.code == "leylek")
    assert leylek.name == "Leilek District"
    munis = {m.code for m in await reference.municipalities(db, leylek.id, "ru")}
    assert "kulundu" in munis
    exported = await reference.export_reference(db)
    assert "kulundu" in exported and exported.count("\ndistrict,") == 40
