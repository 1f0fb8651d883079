"""/search on PostgreSQL as plain SQL on the driver's connections (bot/services/search.py).

py-spy of `bench_search.py`'s /search at 100,000 pairs: of the client's CPU, building each kind's
SQLAlchemy statement, its cache key and compiling took ~36 %, four sessions' checkouts ~12 %,
the shown page's rows (up to three more statements, one after another) ~4 %. Each kind is now a
statement text made once per shape (kind, stems, AND/OR, who asks) and run with asyncpg's own
prepared statements, returning what the shown rows display with the ranking.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from storage.db import Database

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_POSITIONAL: dict[str, tuple[str, tuple[str, ...]]] = {}


def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$n` (`::type` casts untouched), made once a text."""
    found = _POSITIONAL.get(sql)
    if found is None:
        names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        found = _POSITIONAL[sql] = (_NAMED.sub(number, sql), tuple(names))
    return found


# Each kind's rows: id, rank, three titles (the exact-title check), then what a shown row
# displays (`_shown`), given only for the first `:shown` rows (the rest are never on the page).
_SHOWN_ROWS = ("CASE WHEN n <= :shown THEN {0} END, CASE WHEN n <= :shown THEN {1} END, "
               "CASE WHEN n <= :shown THEN {2} END, CASE WHEN n <= :shown THEN {3} END")


def kind_sql(kind: str, matches: str, item_kind: bool, staff: bool, limit: int,
             looks: int) -> str:
    """One kind's ranked rows (at most `limit`, best first) as plain SQL: the
    same rows and ranks as `_questions_part`, `_items_part` and `_decisions_part`; titles for
    the first `looks` rows (the exact-title check)."""
    titles = "CASE WHEN n <= greatest(:shown, {EXACT}) THEN {t} END"
    if kind == "question":
        inner = (f"SELECT x.id, s.rank, x.group_id, x.text AS body, x.status AS detail, "
                 f"x.created_at AS at, NULL::text AS t1, NULL::text AS t2, NULL::text AS t3 "
                 f"FROM ({matches}) s JOIN question x ON x.id = s.rowid "
                 f"WHERE x.group_id = ANY(CAST(:groups AS integer[]))")
    elif kind == "library":
        inner = (f"SELECT x.id, s.rank, x.group_id, NULL::text AS body, x.kind AS detail, "
                 f"x.published_at AS at, x.title_ky AS t1, x.title_ru AS t2, x.title_en AS t3 "
                 f"FROM ({matches}) s JOIN library_item x ON x.id = s.rowid "
                 f"WHERE x.group_id = ANY(CAST(:groups AS integer[])) "
                 f"AND x.status = 'published'" + (" AND x.kind = :item_kind" if item_kind else ""))
    else:
        inner = (f"SELECT x.id, s.rank, NULL::integer AS group_id, NULL::text AS body, "
                 f"x.kind AS detail, x.started_at AS at, x.title AS t1, x.title_ky AS t2, "
                 f"x.title_en AS t3 FROM ({matches}) s JOIN broadcast x ON x.id = s.rowid "
                 f"WHERE x.status = ANY(CAST(:statuses AS text[])) AND x.started_at <= :now"
                 + ("" if staff else " AND EXISTS (SELECT 1 FROM decision_receipt r WHERE "
                    "r.member_id = :member AND r.broadcast_id = x.id)"))
    shown = [titles.format(EXACT=looks, t=t) for t in ("t1", "t2", "t3")]
    return (f"SELECT id, rank, {', '.join(shown)}, "
            + _SHOWN_ROWS.format("group_id", "body", "detail", "at")
            + f" FROM (SELECT *, row_number() OVER (ORDER BY rank, id DESC) AS n FROM ({inner}) "
            f"k ORDER BY rank, id DESC LIMIT {limit}) r ORDER BY n")


def number_sql(item_kind: bool, limit: int) -> str:
    """Legal acts whose number is the query, as `_number_part`, with what they display."""
    return ("SELECT id, -1e9::float8 AS rank, title_ky, title_ru, title_en, group_id, "
            "NULL::text, kind, published_at FROM library_item WHERE number_key = :number "
            "AND status = 'published' AND group_id = ANY(CAST(:groups AS integer[]))"
            + (" AND kind = :item_kind" if item_kind else "") + f" LIMIT {limit}")

async def fetch_side_by_side(db: Database,
                             statements: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
    """Each statement (named parameters) on a driver connection of its own, at once: on
    PostgreSQL each is a server process of its own, on the machine's cores side by side. (With
    fewer connections than statements, some share one, in turn.)"""

    async def on(conn: Any, batch: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
        results = []
        for sql, params in batch:
            text_, names = _positional(sql)
            results.append(list(await conn.fetch(text_, *(params[n] for n in names))))
        return results

    async with db.driver_reads(len(statements)) as conns:
        batches = [statements[i::len(conns)] for i in range(len(conns))]
        done = await asyncio.gather(*(on(c, b) for c, b in zip(conns, batches, strict=True)))
    # statements[i] went to connection i % len(conns), as its (i // len(conns))-th statement
    return [done[i % len(conns)][i // len(conns)] for i in range(len(statements))]


def item_title(language: str, ky: str | None, ru: str | None, en: str | None) -> str:
    return {"ky": ky, "ru": ru, "en": en}.get(language) or ru or ky or en or ""


def decision_title(language: str, ru: str | None, ky: str | None, en: str | None) -> str:
    order = {"ky": ("ky", "ru", "en"), "en": ("en", "ru", "ky")}.get(language, ("ru", "ky", "en"))
    titles = {"ky": ky, "ru": ru, "en": en}
    return next((t for lg in order if (t := titles[lg])), ru or "")
