"""A store made before the state bodies' names were corrected offers the names in force once it
is upgraded (migration 0018_state_body_names), and keeps every name staff wrote themselves."""

from __future__ import annotations

import asyncio
import csv

from sqlalchemy import text
from sqlmodel import select

from bot.services import reference
from storage.db import Database
from storage.migrate import upgrade
from storage.models import StateBody
from tests.test_reference_names import STATE_BODIES

BEFORE = "0017_update_log"

# Names Birge shipped before, as an older store still holds them.
OLD = {
    "gamsumo": ("Жергиликтүү өз алдынча башкаруу жана этностор аралык мамилелер боюнча "
                "мамлекеттик агенттик",
                "Государственное агентство по делам местного самоуправления и межэтнических "
                "отношений",
                "State Agency for Local Self-Government and Interethnic Relations"),
    "jk-budget-committee": ("Жогорку Кеңештин бюджет жана финансы комитети",
                            "Комитет Жогорку Кенеша по бюджету и финансам",
                            "Jogorku Kenesh Committee on Budget and Finance"),
    "cadastre": ("Кадастр жана кыймылсыз мүлккө укуктарды каттоо боюнча мамлекеттик кызмат",
                 "Государственная служба кадастра и регистрации прав на недвижимое имущество",
                 "State Service for Cadastre and Registration of Property Rights"),
}
REGIONAL = ("Жогорку Кеңештин аймактык саясат комитети",
            "Комитет Жогорку Кенеша по региональной политике",
            "Jogorku Kenesh Committee on Regional Policy")


def shipped() -> dict[str, dict[str, str]]:
    with STATE_BODIES.open(encoding="utf-8") as fh:
        return {row["code"]: row for row in csv.DictReader(fh)}


async def an_older_store(url: str) -> None:
    """Migrated before 0018, holding the first shipped names, the regional policy committee
    and not the social committee; staff had renamed the Ministry of Finance in Russian and the
    agency in English."""
    await asyncio.to_thread(upgrade, url, BEFORE)
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            for code, (ky, ru, en) in OLD.items():
                await conn.execute(text("UPDATE state_body SET name_ky=:ky, name_ru=:ru, "
                                        "name_en=:en WHERE code=:c"),
                                   {"ky": ky, "ru": ru, "en": en, "c": code})
            await conn.execute(text("UPDATE state_body SET name_en=:en WHERE code='gamsumo'"),
                               {"en": "LSG Agency (our contact: Room 12)"})
            await conn.execute(text("UPDATE state_body SET name_ru=:ru WHERE code='minfin'"),
                               {"ru": "Министерство финансов КР"})
            await conn.execute(text("DELETE FROM state_body WHERE code='jk-social-committee'"))
            await conn.execute(
                text("INSERT INTO state_body (code, kind, sort, active, name_ky, name_ru, "
                     "name_en) VALUES ('jk-regional-committee', 'parliament', 3, :a, :ky, :ru, "
                     ":en)"),
                {"a": True, "ky": REGIONAL[0], "ru": REGIONAL[1], "en": REGIONAL[2]})
    finally:
        await db.dispose()


async def test_an_older_store_offers_the_names_in_force_after_the_upgrade(
    empty_db_url: str,
) -> None:
    url = empty_db_url
    await an_older_store(url)
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(upgrade, url)  # a second run changes nothing
    csv_rows = shipped()
    db = Database(url)
    try:
        async with db.read() as s:
            stored = {b.code: b for b in (await s.exec(select(StateBody))).all()}
        offered = [p.name for p in await reference.state_bodies(db, "ru")]
        offered_ky = [p.name for p in await reference.state_bodies(db, "ky")]
    finally:
        await db.dispose()

    agency = stored["gamsumo"]
    assert agency.name_ru == csv_rows["gamsumo"]["name_ru"]
    assert "государственной службы и местного самоуправления" in agency.name_ru
    assert agency.name_ky == csv_rows["gamsumo"]["name_ky"]
    assert agency.name_en == "LSG Agency (our contact: Room 12)"  # staff wrote it
    for code in ("jk-budget-committee", "cadastre"):
        for column in ("name_ky", "name_ru", "name_en"):
            assert getattr(stored[code], column) == csv_rows[code][column], (code, column)
    assert stored["minfin"].name_ru == "Министерство финансов КР"
    assert stored["jk-social-committee"].name_ky == csv_rows["jk-social-committee"]["name_ky"]
    assert stored["jk-social-committee"].active
    assert not stored["jk-regional-committee"].active  # kept for issues already carried to it

    assert REGIONAL[1] not in offered
    assert OLD["gamsumo"][1] not in offered and OLD["cadastre"][1] not in offered
    assert csv_rows["cadastre"]["name_ru"] in offered
    assert csv_rows["jk-social-committee"]["name_ru"] in offered
    assert csv_rows["gamsumo"]["name_ky"] in offered_ky and len(offered) == len(csv_rows)


async def test_a_renamed_gone_committee_stays_offered(empty_db_url: str) -> None:
    """Staff who renamed the regional policy committee's row use it for a body of their own."""
    url = empty_db_url
    await an_older_store(url)
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE state_body SET name_ru=:ru "
                                    "WHERE code='jk-regional-committee'"),
                               {"ru": "Полномочный представитель Президента в Чуйской области"})
        await asyncio.to_thread(upgrade, url)
        offered = [p.name for p in await reference.state_bodies(db, "ru")]
    finally:
        await db.dispose()
    assert "Полномочный представитель Президента в Чуйской области" in offered
