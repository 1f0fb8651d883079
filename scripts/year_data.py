"""A year of Birge's data, through bulk inserts, for the benchmarks (issue 20).

    from scripts.year_data import fill_year, database_size
    counts = await fill_year(db)            # 10,000 members ... 1,500,000 outbox rows
    counts = await fill_year(db, scale=0.01)  # the same shape, a hundredth of it (tests)

The database must be migrated (reference data in place). Rows are built column by column from
the tables themselves: the columns that matter (who, where, when, status) get realistic values,
every other required column a plain value of its type, so a table that gains a column keeps
filling. Timestamps spread over the past year, so a year's pruning has something to prune.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, insert, select, text

from storage.db import Database
from storage.enums import BroadcastStatus, EventKind, EventStatus, MemberStatus, OutboxStatus
from storage.models import (
    Answer,
    Broadcast,
    CommunityMembership,
    District,
    Event,
    GroupMember,
    IssueCosign,
    LegalCase,
    LegalCaseEvent,
    LibraryItem,
    Member,
    NationalIssue,
    Outbox,
    Question,
    Survey,
    SurveyResponse,
)

YEAR = {"members": 10_000, "questions": 100_000, "legal_cases": 3_000, "case_events": 4,
        "national_issues": 2_000, "cosigns": 10, "broadcasts": 200, "outbox": 1_500_000,
        "digests": 50_000, "surveys": 20, "survey_responses": 20_000, "library": 500,
        "events": 300, "follows": 2}
CHUNK = 10_000
Row = dict[str, Any]


def _plain(column: sa.Column[Any], i: int, now: datetime) -> Any:
    """A value for a required column nobody chose one for."""
    t = column.type
    if isinstance(t, sa.JSON):
        return {}
    if isinstance(t, sa.Boolean):
        return False
    if isinstance(t, sa.DateTime):
        return now
    if isinstance(t, sa.Date):
        return now.date()
    if isinstance(t, sa.Integer | sa.Float | sa.Numeric):
        return 0
    if isinstance(t, sa.LargeBinary):
        return b""
    length = getattr(t, "length", None) or 40
    return f"{column.name}-{i}"[:length]


class Filler:
    def __init__(self, db: Database, now: datetime, seed: int = 20) -> None:
        self.db = db
        self.now = now
        self.rand = random.Random(seed)
        self.ids: dict[str, list[int]] = {}

    def when(self, days: float = 365) -> datetime:
        return self.now - timedelta(seconds=self.rand.uniform(0, days * 86400))

    async def existing(self, table: str) -> list[int]:
        if table not in self.ids:
            async with self.db.engine.connect() as conn:
                self.ids[table] = list((await conn.execute(
                    text(f"SELECT id FROM {table} ORDER BY id"))).scalars())
        return self.ids[table]

    async def rows(self, model: Any, n: int, make: Callable[[int], Row]) -> Iterator[Row]:
        table: sa.Table = model.__table__
        fks = {c.name: next(iter(c.foreign_keys)).column.table.name
               for c in table.columns if c.foreign_keys and not c.nullable}
        pools = {name: await self.existing(target) for name, target in fks.items()}
        required = [c for c in table.columns
                    if not c.nullable and not c.primary_key and c.server_default is None]

        def build() -> Iterator[Row]:
            for i in range(n):
                row = make(i)
                for c in required:
                    if c.name not in row:
                        pool = pools.get(c.name)
                        row[c.name] = self.rand.choice(pool) if pool else _plain(c, i, self.now)
                yield row
        return build()

    async def insert(self, model: Any, n: int, make: Callable[[int], Row]) -> list[int]:
        """Insert n rows; the new ids (ids are assigned in order on both databases)."""
        table: sa.Table = model.__table__
        async with self.db.engine.connect() as conn:
            start = (await conn.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar()
        batch: list[Row] = []
        async with self.db.engine.begin() as conn:
            for row in await self.rows(model, n, make):
                batch.append(row)
                if len(batch) >= CHUNK:
                    await conn.execute(insert(table), batch)
                    batch = []
            if batch:
                await conn.execute(insert(table), batch)
        new = list(range(int(start or 0) + 1, int(start or 0) + 1 + n))
        self.ids[table.name] = [*self.ids.get(table.name, []), *new]
        return new


async def fill_year(db: Database, scale: float = 1.0, now: datetime | None = None,
                    log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Fill a migrated database with a year's volume (times `scale`); rows per table."""
    now = now or datetime.now(UTC)
    f = Filler(db, now)
    n = {k: max(1, int(v * scale)) if k not in ("case_events", "cosigns", "follows") else v
         for k, v in YEAR.items()}
    counts: dict[str, int] = {}
    began = time.perf_counter()

    def done(name: str, k: int) -> None:
        counts[name] = counts.get(name, 0) + k
        if log:
            log(f"  {name}: {k:,} rows ({time.perf_counter() - began:.1f} s)")

    async with db.engine.connect() as conn:
        districts: sa.Table = District.__table__  # type: ignore[attr-defined]
        places = (await conn.execute(select(districts.c.id, districts.c.region_id))).all()
    base_tg = 9_000_000_000 + int(now.timestamp()) % 1_000_000 * 1000
    members = await f.insert(Member, n["members"], lambda i: {
        "telegram_id": base_tg + i, "full_name": f"Мүчө {i}", "language": ("ky", "ru")[i % 2],
        "position": "head_ao", "status": MemberStatus.ACTIVE.value,
        "district_id": places[i % len(places)][0], "region_id": places[i % len(places)][1],
        "consent_at": f.when(), "reachable": True, "created_at": f.when()})
    done("member", len(members))
    questions = await f.insert(Question, n["questions"], lambda i: {
        "asker_id": members[i % len(members)], "created_at": f.when(), "status": "answered",
        "anonymous": False, "attachments": [],
        "text": f"Суроо {i}: жер салыгы кантип эсептелет?"})
    done("question", len(questions))
    done("answer", len(await f.insert(Answer, n["questions"], lambda i: {
        "question_id": questions[i], "author_id": members[(i * 7) % len(members)],
        "attachments": [], "created_at": f.when(),
        "text": f"Жооп {i}: салык кодексинин 3-беренесине ылайык."})))
    cases = await f.insert(LegalCase, n["legal_cases"], lambda i: {
        "requester_id": members[i % len(members)], "category": "land", "status": "closed",
        "summary": f"Укуктук суроо {i}", "created_at": f.when(), "consent_at": f.when()})
    done("legal_case", len(cases))
    done("legal_case_event", len(await f.insert(
        LegalCaseEvent, len(cases) * n["case_events"],
        lambda i: {"case_id": cases[i // n["case_events"]], "kind": "opened",
                   "created_at": f.when()})))
    issues = await f.insert(NationalIssue, n["national_issues"], lambda i: {
        "author_id": members[i % len(members)], "title": f"Маселе {i}", "topic": "land",
        "problem": "Жер маселеси", "solution": "Мыйзамды өзгөртүү", "state": "new",
        "documents": [], "restricted": False, "members_count": 1, "created_at": (t := f.when()),
        "state_changed_at": t})
    done("national_issue", len(issues))
    k = n["cosigns"]
    done("issue_cosign", len(await f.insert(IssueCosign, len(issues) * k, lambda i: {
        "issue_id": issues[i // k], "member_id": members[(i // k * 13 + i % k + 1) % len(members)],
        "created_at": f.when()})))
    staff = members[0]
    broadcasts = await f.insert(Broadcast, n["broadcasts"], lambda i: {
        "kind": "law", "title": f"Маалымат {i}", "text_ky": "Текст", "text_ru": "Текст",
        "status": BroadcastStatus.SENDING.value, "created_by_id": staff,
        "created_at": f.when(), "audience": {}, "documents": [],
        "recipients": n["outbox"] // n["broadcasts"]})
    done("broadcast", len(broadcasts))
    per = max(1, n["outbox"] // len(broadcasts))
    # One statement: every broadcast to `per` members (a broadcast's recipients), sent when the
    # broadcast was made, 2% failed and 2% unreachable. Broadcast by broadcast, as Birge enqueues
    # them (a broadcast's rows are consecutive ids): the order pruning reads them in.
    per = min(per, len(members))
    m, bc = Member.__table__, Broadcast.__table__  # type: ignore[attr-defined]
    nth = (m.c.id - members[0]) % 100
    status = sa.case((nth < 2, OutboxStatus.FAILED.value),
                     (nth < 4, OutboxStatus.UNREACHABLE.value),
                     else_=OutboxStatus.SENT.value)
    query = select(m.c.id, bc.c.id, sa.literal("broadcast"),
                   sa.cast(sa.literal("{}"), sa.JSON), sa.literal(10), status, sa.literal(1),
                   bc.c.created_at, bc.c.created_at).select_from(m.join(bc, sa.true())).where(
        m.c.id.between(members[0], members[0] + per - 1),
        bc.c.id.between(broadcasts[0], broadcasts[-1])).order_by(bc.c.id, m.c.id)
    async with db.engine.begin() as conn:
        await conn.execute(insert(Outbox.__table__).from_select(  # type: ignore[attr-defined]
            ["member_id", "broadcast_id", "kind", "payload", "priority", "status", "attempts",
             "created_at", "sent_at"], query))
    done("outbox (broadcasts)", len(broadcasts) * per)
    done("outbox (digests)", len(await f.insert(Outbox, n["digests"], lambda i: {
        "member_id": members[i % len(members)], "kind": "digest",
        "payload": {"items": []}, "status": OutboxStatus.SENT.value, "attempts": 1,
        "created_at": (t := f.when()), "sent_at": t})))
    surveys = await f.insert(Survey, n["surveys"], lambda i: {
        "created_by_id": staff, "kind": "survey", "status": "closed", "questions": [],
        "audience": {}, "deadline": f.when(), "title_ky": f"Сурамжылоо {i}",
        "title_ru": f"Опрос {i}", "intro_ky": "", "intro_ru": "", "created_at": f.when()})
    done("survey", len(surveys))
    done("survey_response", len(await f.insert(SurveyResponse, n["survey_responses"], lambda i: {
        "survey_id": surveys[i % len(surveys)], "member_id": members[i // len(surveys)
                                                                      % len(members)],
        "key": f"k{i}", "answers": {}, "created_at": (t := f.when()), "updated_at": t,
        "submitted_at": t})))
    done("library_item", len(await f.insert(LibraryItem, n["library"], lambda i: {
        "kind": "practice", "status": "published", "title_ky": f"Тажрыйба {i}",
        "title_ru": f"Практика {i}", "title_en": f"Practice {i}", "texts": {}, "files": [],
        "author_id": members[i % len(members)], "created_at": (t := f.when()),
        "updated_at": t, "published_at": t})))
    # Events: a year's, of which the last tenth are still ahead (so /events lists them).
    kinds = list(EventKind)
    done("event", len(await f.insert(Event, n["events"], lambda i: {
        "kind": kinds[i % len(kinds)].value, "title_ky": f"Семинар {i}",
        "title_ru": f"Семинар {i}", "description_ky": "Жергиликтүү бюджет",
        "description_ru": "Местный бюджет", "district_limits": {}, "audience": {},
        "starts_at": (t := now + timedelta(days=(i - n["events"] * 0.9) * 1.3)),
        "ends_at": t + timedelta(hours=2), "registration_until": t - timedelta(days=1),
        "capacity": 100, "status": EventStatus.PUBLISHED.value, "created_by_id": staff,
        "created_at": t - timedelta(days=14)})))
    # Every member follows `follows` topic groups and belongs to a practice community.
    groups = await f.existing("topic_group")
    communities = await f.existing("community")
    k = min(n["follows"], len(groups))
    follows = [{"group_id": groups[(i + j * 5) % len(groups)], "member_id": m,
                "joined_at": f.when()} for i, m in enumerate(members) for j in range(k)]
    belongs = [{"member_id": m, "community_id": communities[i % len(communities)],
                "joined_at": f.when()} for i, m in enumerate(members)] if communities else []
    async with db.engine.begin() as conn:
        for table, rows in ((GroupMember.__table__, follows),  # type: ignore[attr-defined]
                            (CommunityMembership.__table__, belongs)):  # type: ignore[attr-defined]
            for at in range(0, len(rows), CHUNK):
                await conn.execute(insert(table), rows[at:at + CHUNK])
    done("group_member", len(follows))
    done("community_membership", len(belongs))
    return counts


async def database_size(db: Database) -> int:
    """Bytes the database takes: SQLite's pages, PostgreSQL's pg_database_size."""
    async with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            return int((await conn.execute(
                text("SELECT pg_database_size(current_database())"))).scalar() or 0)
        pages = (await conn.execute(text("PRAGMA page_count"))).scalar() or 0
        size = (await conn.execute(text("PRAGMA page_size"))).scalar() or 0
        return int(pages) * int(size)


async def compact(db: Database) -> None:
    """Give the pruned space back to the file system, so the size shows it.

    SQLite: VACUUM rewrites the file. PostgreSQL: a plain VACUUM (what autovacuum does in
    production) only marks the space free for new rows, so the files keep their size and the
    database stops growing rather than shrinking; VACUUM FULL rewrites the tables, which is what
    shows here how much the pruned database holds."""
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        full = " FULL" if db.engine.dialect.name == "postgresql" else ""
        await conn.execute(text(f"VACUUM{full}"))
