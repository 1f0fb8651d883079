"""Reference data: regions, districts, municipalities and practice communities.

Staff edit it without a code change: `birge reference import FILE.csv` upserts rows by code (the
format of `storage/reference/geography.csv`, which the first migration loads). The state bodies
national issues are carried to use the same format with kind `state_body` and the body's kind
(parliament, government, ministry, agency) in `extra` (`storage/reference/state_bodies.csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, cache
from bot.services.errors import InvalidInput
from storage.db import Database
from storage.enums import MunicipalityKind, RegionKind, StateBodyKind
from storage.models import Community, District, Municipality, Region, StateBody

SHIPPED = Path(__file__).resolve().parents[2] / "storage" / "reference" / "geography.csv"
COLUMNS = ("kind", "code", "parent", "name_ky", "name_ru", "name_en", "sort", "extra")


@dataclass(frozen=True)
class Place:
    id: int
    code: str
    name: str
    kind: str = ""


def _places(rows: Sequence[Region | District | Municipality | Community | StateBody],
            lang: str) -> list[Place]:
    return [Place(r.id or 0, r.code, r.name(lang), str(getattr(r, "kind", ""))) for r in rows]


_lists: cache.ReadCache[list[Place]] = cache.ReadCache(
    60.0, "region", "district", "municipality", "community", "state_body"
)


async def _listed(db: Database, key: tuple[object, ...], query: Callable[[], Any],
                  lang: str) -> list[Place]:
    """A reference list in `lang`, from the cache or (building the query only then) the
    database: these lists are read on nearly every step of a flow."""
    found = _lists.get((*key, lang))
    if not cache.missing(found):
        return found  # type: ignore[return-value]
    async with db.read() as s:
        rows = (await s.exec(query())).all()
    return _lists.put((*key, lang), _places(rows, lang))


async def regions(db: Database, lang: str) -> list[Place]:
    return await _listed(
        db, ("regions",), lambda: select(Region).where(Region.active).order_by(col(Region.sort)),
        lang)


async def districts(db: Database, region_id: int, lang: str) -> list[Place]:
    return await _listed(
        db, ("districts", region_id),
        lambda: (select(District).where(District.region_id == region_id, District.active)
                 .order_by(col(District.sort), col(District.code))), lang)


async def municipalities(db: Database, district_id: int, lang: str) -> list[Place]:
    return await _listed(
        db, ("municipalities", district_id),
        lambda: (select(Municipality)
                 .where(Municipality.district_id == district_id, Municipality.active)
                 .order_by(col(Municipality.code))), lang)


async def communities(db: Database, lang: str) -> list[Place]:
    return await _listed(
        db, ("communities",), lambda: select(Community).order_by(col(Community.sort)), lang)


async def state_bodies(db: Database, lang: str) -> list[Place]:
    """The active state bodies, parliament committees first."""
    return await _listed(
        db, ("state_bodies",),
        lambda: (select(StateBody).where(StateBody.active)
                 .order_by(col(StateBody.sort), col(StateBody.code))), lang)


# --- import ----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0


def parse_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS[:6] if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("reference_columns", missing=", ".join(missing))
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


async def upsert_rows(session: AsyncSession, rows: Iterable[dict[str, str]],
                      progress: Callable[[int], None] | None = None) -> ImportReport:
    """Insert or update reference rows by code; parents must come before children.
    `progress(n)` is called after each row (the CLI's progress bar)."""
    report = ImportReport()
    for line, row in enumerate(rows, start=2):
        if progress is not None:
            progress(line - 1)
        kind, code = row.get("kind", ""), row.get("code", "")
        names = {k: row.get(k, "") for k in ("name_ky", "name_ru", "name_en")}
        if not code or not all(names.values()):
            raise InvalidInput("reference_row", line=line)
        sort = int(row["sort"]) if row.get("sort", "").isdigit() else 0
        extra = row.get("extra", "")
        obj: Region | District | Municipality | Community | StateBody | None
        if kind == "region":
            obj = (await session.exec(select(Region).where(Region.code == code))).first()
            values: dict[str, object] = {"kind": extra or RegionKind.OBLAST, "sort": sort}
            model: type = Region
        elif kind == "district":
            parent = (
                await session.exec(select(Region).where(Region.code == row.get("parent")))
            ).first()
            if parent is None:
                raise InvalidInput("reference_parent", line=line)
            obj = (await session.exec(select(District).where(District.code == code))).first()
            values = {"region_id": parent.id, "sort": sort}
            model = District
        elif kind == "municipality":
            dparent = (
                await session.exec(select(District).where(District.code == row.get("parent")))
            ).first()
            if dparent is None:
                raise InvalidInput("reference_parent", line=line)
            obj = (
                await session.exec(
                    select(Municipality).where(
                        Municipality.code == code, Municipality.district_id == dparent.id
                    )
                )
            ).first()
            values = {"district_id": dparent.id, "kind": extra or MunicipalityKind.AIYL_AIMAK}
            model = Municipality
        elif kind == "community":
            obj = (await session.exec(select(Community).where(Community.code == code))).first()
            values = {"sort": sort}
            model = Community
        elif kind == "state_body":
            if extra and extra not in {k.value for k in StateBodyKind}:
                raise InvalidInput("reference_row", line=line)
            obj = (await session.exec(select(StateBody).where(StateBody.code == code))).first()
            values = {"kind": extra or StateBodyKind.MINISTRY, "sort": sort}
            model = StateBody
        else:
            raise InvalidInput("reference_kind", line=line)
        values.update(names)
        if obj is None:
            session.add(model(code=code, **values))
            report.created += 1
        else:
            changed = False
            for key, value in values.items():
                if getattr(obj, key) != value:
                    setattr(obj, key, value)
                    changed = True
            report.updated += int(changed)
        await session.flush()
    return report


async def import_reference(db: Database, text: str, actor_id: int | None = None,
                           progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Upsert a reference CSV in one transaction: all of it or none of it. `progress(done,
    total)` follows the rows (the full list of ~450 municipalities takes a few seconds)."""
    rows = parse_rows(text)
    total = len(rows)
    async with db.transaction() as session:
        report = await upsert_rows(
            session, rows, (lambda n: progress(n, total)) if progress is not None else None)
        audit.record(session, actor_id, "reference_import", created=report.created,
                     updated=report.updated)
    return report


async def export_reference(db: Database) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    async with db.read() as s:
        region_rows = (await s.exec(select(Region).order_by(col(Region.sort)))).all()
        region_code = {r.id: r.code for r in region_rows}
        for r in region_rows:
            writer.writerow(["region", r.code, "", r.name_ky, r.name_ru, r.name_en, r.sort, r.kind])
        district_query = select(District).order_by(col(District.region_id), col(District.sort))
        district_rows = (await s.exec(district_query)).all()
        district_code = {d.id: d.code for d in district_rows}
        for d in district_rows:
            writer.writerow(["district", d.code, region_code[d.region_id], d.name_ky, d.name_ru,
                             d.name_en, d.sort, ""])
        muni_query = select(Municipality).order_by(col(Municipality.district_id),
                                                   col(Municipality.code))
        for m in (await s.exec(muni_query)).all():
            writer.writerow(["municipality", m.code, district_code[m.district_id], m.name_ky,
                             m.name_ru, m.name_en, 0, m.kind])
        for c in (await s.exec(select(Community).order_by(col(Community.sort)))).all():
            writer.writerow(["community", c.code, "", c.name_ky, c.name_ru, c.name_en, c.sort, ""])
        bodies = select(StateBody).order_by(col(StateBody.sort), col(StateBody.code))
        for b in (await s.exec(bodies)).all():
            writer.writerow(["state_body", b.code, "", b.name_ky, b.name_ru, b.name_en, b.sort,
                             b.kind])
    return out.getvalue()
