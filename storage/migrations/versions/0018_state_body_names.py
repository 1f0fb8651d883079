"""state bodies carry the names in force in existing stores, not only in new ones

Migration 0006 seeds `storage/reference/state_bodies.csv` only for codes a store lacks, so a store
made earlier kept the names Birge first shipped: parliament committees of the 7th convocation and
invented ones (the Jogorku Kenesh of the 8th convocation approved its committees on 17 December
2025), the agency for local self-government and interethnic relations (replaced in November 2021
by the agency for civil service and local self-government, Cabinet resolution No. 258) and the
cadastre service (now the agency for land resources, cadastre, geodesy and cartography under the
Cabinet of Ministers, formed by a presidential decree of 25 December and at work in 2025).

A name that is still one Birge shipped is brought to the CSV; a name staff changed (by `birge
reference import`) is left as they wrote it, language by language. Bodies the CSV has and the
store lacks are added. The regional policy committee, which the parliament no longer has, is no
longer offered (issues already carried to it keep it).

Revision ID: 0018_state_body_names
Revises: 0017_update_log
Create Date: 2026-11-30 09:00:00
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = '0018_state_body_names'
down_revision: str | None = '0017_update_log'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CSV = Path(__file__).resolve().parents[2] / "reference" / "state_bodies.csv"
LANGUAGES = ("name_ky", "name_ru", "name_en")

# Names earlier versions of the CSV shipped, per code, as (ky, ru, en).
SHIPPED: dict[str, list[tuple[str, str, str]]] = {
    "jk-lsg-committee": [(
        "Жогорку Кеңештин Конституциялык мыйзамдар жана мамлекеттик түзүлүш комитети",
        "Комитет Жогорку Кенеша по конституционному законодательству и государственному "
        "устройству",
        "Jogorku Kenesh Committee on Constitutional Legislation and State Structure",
    )],
    "jk-budget-committee": [(
        "Жогорку Кеңештин бюджет жана финансы комитети",
        "Комитет Жогорку Кенеша по бюджету и финансам",
        "Jogorku Kenesh Committee on Budget and Finance",
    )],
    "jk-agrarian-committee": [(
        "Жогорку Кеңештин агрардык саясат жана жер ресурстары комитети",
        "Комитет Жогорку Кенеша по аграрной политике и земельным ресурсам",
        "Jogorku Kenesh Committee on Agrarian Policy and Land",
    )],
    "gamsumo": [(
        "Жергиликтүү өз алдынча башкаруу жана этностор аралык мамилелер боюнча мамлекеттик "
        "агенттик",
        "Государственное агентство по делам местного самоуправления и межэтнических отношений",
        "State Agency for Local Self-Government and Interethnic Relations",
    ), (
        "Кыргыз Республикасынын Министрлер Кабинетине караштуу Жергиликтүү өз алдынча башкаруу "
        "иштери жана этностор аралык мамилелер боюнча мамлекеттик агенттик",
        "Государственное агентство по делам местного самоуправления и межэтнических отношений "
        "при Кабинете Министров Кыргызской Республики",
        "State Agency for Local Self-Government and Interethnic Relations under the Cabinet of "
        "Ministers",
    )],
    "cadastre": [(
        "Кадастр жана кыймылсыз мүлккө укуктарды каттоо боюнча мамлекеттик кызмат",
        "Государственная служба кадастра и регистрации прав на недвижимое имущество",
        "State Service for Cadastre and Registration of Property Rights",
    )],
}

# Bodies that no longer exist: (code, the Russian name as shipped). Hidden only while staff
# have not renamed them (a renamed row is a body staff keep on purpose).
GONE = (("jk-regional-committee", "Комитет Жогорку Кенеша по региональной политике"),)


STATE_BODY = sa.table(
    "state_body", sa.column("code", sa.String), sa.column("kind", sa.String),
    sa.column("sort", sa.Integer), sa.column("active", sa.Boolean),
    *(sa.column(name, sa.String) for name in LANGUAGES))


def upgrade() -> None:
    conn = op.get_bind()
    with CSV.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "state_body"]
    stored = {r.code: r for r in conn.execute(
        sa.select(STATE_BODY.c.code, *(STATE_BODY.c[name] for name in LANGUAGES)))}
    missing = [{"code": row["code"], "kind": row["extra"] or "ministry",
                "sort": int(row["sort"] or 0), "active": True,
                **{name: row[name] for name in LANGUAGES}}
               for row in rows if row["code"] not in stored]
    if missing:
        op.bulk_insert(STATE_BODY, missing)
    for row in rows:
        current = stored.get(row["code"])
        if current is None:
            continue
        shipped = SHIPPED.get(row["code"], [])
        renamed = {name: row[name] for i, name in enumerate(LANGUAGES)
                   if getattr(current, name) != row[name]
                   and getattr(current, name) in {n[i] for n in shipped}}
        if renamed:
            conn.execute(STATE_BODY.update().where(STATE_BODY.c.code == row["code"])
                         .values(renamed))
    for code, name_ru in GONE:
        conn.execute(STATE_BODY.update()
                     .where(STATE_BODY.c.code == code, STATE_BODY.c.name_ru == name_ru)
                     .values(active=False))


def downgrade() -> None:
    # Names are reference data: going back to a schema does not bring back superseded names.
    pass
