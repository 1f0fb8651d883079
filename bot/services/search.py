"""The knowledge base's search: questions and their accepted answers, in Kyrgyz and Russian.

The choice: SQLite FTS5 over word tokens (`unicode61`) with prefix indexes, queried with stems.
- FTS5 has no Kyrgyz or Russian stemmer. Each query word is cut to its stem (Russian by Snowball,
  Kyrgyz by our suffix stripper) and matched as a *prefix* of the indexed words, so "бюджет*"
  finds бюджеттик, бюджетке, бюджета, бюджетный. The text is indexed as written (lower-cased).
- The trigram tokenizer was 2–5 times slower than word prefixes (30,000 pairs), and went.
- The query is cut into words (letters and digits only), stop words dropped, every stem quoted:
  quotes, `NEAR`, `*`, `-`, parentheses never reach FTS5 (or PostgreSQL) as syntax.
- Ranking (bm25) covers at most the newest `CANDIDATES` matches (ranking every match of a common
  word cost 50–200 ms at 100,000 questions); among recent matches the best come first.
- Search asks for all stems (falling back to any stem when nothing has all); the similar-question
  lookup asks for any of the longest stems and keeps the best three answered questions.
- Only visible questions are in the index (`reindex` is called by every change that affects what
  a question shows), so hidden content disappears from search at once.
- One search (`everything`, behind `/search`) covers three indexes: questions with their accepted
  answers, published library items, and the decisions archive (broadcasts). Each index gives its
  newest `SECONDARY_CANDIDATES` (300) matches ranked by bm25, all three in one statement; merged
  by rank, an exact title (or legal-act number) first. What a member may see is the caller's
  `Scope` (the groups `groups.visible_group_ids` allows, the broadcasts their receipts name).

The backend (how an index is fed and matched) sits behind `Backend`, chosen by the database's
dialect (`backend(db)`): `Fts5Backend` on SQLite; `PostgresBackend` on PostgreSQL (a tsvector of
the same words, each occurrence counted, under a GIN index, matched with the same stems as
prefixes and ranked by the same bm25 over the same candidates); on any other database
`LikeBackend`, a plain table matched with ILIKE.
How the indexes are fed, for a new backend:
- `question_search` (columns `question`, `answer`; rowid = question id): `reindex(session, id)`,
  called by every change in `bot.services.questions` that alters what a question shows;
- `library_search` (columns `title`, `body`; rowid = library item id): `reindex_item(session,
  id)`, called by every change in `bot.services.library` (published items only are indexed);
- `decision_search` (columns `title`, `body`; rowid = broadcast id): `reindex_decision(session,
  id)`, called when a broadcast is fanned out (`bot.services.broadcasts`).
All three write through `Backend.put` / `Backend.drop` with already lower-cased text (all
languages of an item in one `body`), inside the caller's transaction; migration 0012 backfills
`decision_search` from existing broadcasts; `birge library import` feeds `library_search` through
`reindex_item` too. A backend answers `Backend.matches(index, stems, op, limit)` with a subquery of
(rowid, rank) — lower rank is better — over at most `limit` (default `CANDIDATES`) of the newest
matches, where each stem is a word prefix and `op` is AND or OR.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Float, Integer, String, cast, column, literal, null, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import search_sql
from bot.services.search_sql import decision_title, item_title
from bot.services.search_terms import (  # noqa: F401 (stem, STOP_WORDS: this module's names too)
    _WORD,
    MIN_STEM,
    QUERY_MAX_TERMS,
    STOP_WORDS,
    normalize,
    stem,
    terms,
)
from storage.db import Database
from storage.enums import QuestionStatus
from storage.models import Answer, Broadcast, DecisionReceipt, LibraryItem, Question
from storage.types import utcnow

SIMILAR_TERMS = 6
# Ranking covers the newest matches only; the count shown is capped at the same number.
CANDIDATES = COUNT_CAP = 1000
# One search over three indexes ranks the newest 300 matches of each: ranking (bm25) is what
# costs (a third of the time for a third of the rows), and 300 a kind is 60 pages of results.
SECONDARY_CANDIDATES = 300
# The questions search (`search`) ranks as /search's questions do: its newest 300 matches. With
# 1,000 its p95 at 100,000 pairs was 17.9 ms on PostgreSQL (10.3 ms with 300), and its total
# (capped at the same number) said more than anyone pages through.
QUESTION_CANDIDATES = SECONDARY_CANDIDATES
EXACT_LOOKS = 20

def _match(stems: list[str], op: str) -> str:
    # Stems hold letters and digits only, so quoting them makes each a plain prefix query.
    return f" {op} ".join(f'"{s}"*' for s in stems)


# --- the backend: how an index is fed and matched -----------------------------------------------

INDEXES: dict[str, tuple[str, str]] = {
    "question_search": ("question", "answer"),
    "library_search": ("title", "body"),
    "decision_search": ("title", "body"),
}


class Backend(Protocol):
    """What search needs from a database: keep an index's rows, and match stems in it."""

    async def put(self, session: AsyncSession, index: str, rowid: int, first: str,
                  second: str) -> None: ...

    async def drop(self, session: AsyncSession, index: str, rowid: int) -> None: ...

    async def prepare(self, session: AsyncSession) -> None:
        """Before a session matches (a backend's statistics, read now and then)."""
        ...

    def matches(self, index: str, stems: list[str], op: str,
                limit: int = CANDIDATES) -> tuple[str, dict[str, object]]:
        """SQL selecting `rowid, rank` (lower is better) of at most `limit` rows of `index`
        (the newest) matching the stems as word prefixes (`op` AND or OR), and its
        parameters."""
        ...


class _TableBackend:
    async def prepare(self, session: AsyncSession) -> None:
        return None

    async def drop(self, session: AsyncSession, index: str, rowid: int) -> None:
        assert index in INDEXES
        await session.exec(text(f"DELETE FROM {index} WHERE rowid = :id")  # type: ignore[call-overload]
                           .bindparams(id=rowid))

    async def put(self, session: AsyncSession, index: str, rowid: int, first: str,
                  second: str) -> None:
        await self.drop(session, index, rowid)
        a, b = INDEXES[index]
        await session.exec(text(  # type: ignore[call-overload]
            f"INSERT INTO {index} (rowid, {a}, {b}) VALUES (:id, :a, :b)"
        ).bindparams(id=rowid, a=first, b=second))


class Fts5Backend(_TableBackend):
    """SQLite: FTS5 virtual tables over word tokens with prefix indexes (migrations 0005, 0012)."""

    def matches(self, index: str, stems: list[str], op: str,
                limit: int = CANDIDATES) -> tuple[str, dict[str, object]]:
        assert index in INDEXES
        return (f"SELECT rowid, rank FROM {index} WHERE {index} MATCH :match "
                f"ORDER BY rowid DESC LIMIT {int(limit)}", {"match": _match(stems, op)})


class LikeBackend(_TableBackend):
    """Any other database: plain tables matched with ILIKE, newest first (`register_backend`
    adds a full-text one)."""

    def matches(self, index: str, stems: list[str], op: str,
                limit: int = CANDIDATES) -> tuple[str, dict[str, object]]:
        a, b = INDEXES[index]
        params: dict[str, object] = {}
        clauses = []
        for i, stem_ in enumerate(stems):
            params[f"t{i}"] = f"%{stem_}%"
            clauses.append(f"({a} ILIKE :t{i} OR {b} ILIKE :t{i})")
        return (f"SELECT rowid, 0 AS rank FROM {index} WHERE {f' {op} '.join(clauses)} "
                f"ORDER BY rowid DESC LIMIT {int(limit)}", params)


def _tsquery(stems: list[str], op: str) -> str:
    """A tsquery's text of word prefixes (`'бюджет':* & 'налог':*`), a bound parameter (letters
    and digits only, as `terms` makes stems; anything else is dropped all the same)."""
    return (" & " if op == "AND" else " | ").join(
        f"'{w}':*" for w in ("".join(_WORD.findall(s)) for s in stems) if w)


def _keys(stems: list[str], op: str) -> str:
    """The stems as exact keys of `search_keys` (migration 0018): each one's first
    `PREFIX_KEYS` letters (a longer stem is checked on the row's words afterwards)."""
    return (" & " if op == "AND" else " | ").join(
        f"'{w[:PREFIX_KEYS]}'" for w in ("".join(_WORD.findall(s)) for s in stems) if w)


PREFIX_KEYS = 6


class PostgresBackend(_TableBackend):
    """PostgreSQL: an index table is (rowid, tsv): its words (cut as FTS5's unicode61: `_WORD`)
    as an uncompressed tsvector, under a GIN index of every word's 3-6 letter prefixes
    (`search_keys(tsv)`, migration 0018). Each occurrence after a word's first is a lexeme of
    its own (`бюджет~2`, 0019): a stem's `ts_rank` is its count, `length(tsv)` the row's words.
    Stems match as quoted word prefixes (`'stem':*`) over the newest `limit` matches
    (`search_newest`, migration 0020), as on SQLite.

    Rank: FTS5's bm25 over the same candidates, N and mean length from `search_stats` (kept by
    `put`, `drop`); a term's document frequency is the share of rows ANALYZE found holding its
    first 6 letters (the GIN index's statistics, reread every `STATS_TTL` s), or counted.
    Top 5 as SQLite's: 0.97-1.00 (`bench_search.py --database local`; ts_rank gave 0.49-0.83)."""

    K1, B = 1.2, 0.75
    STATS_TTL = 300.0
    # A key ANALYZE did not list is rare (a few dozen rows): counted, but never past this.
    COUNT_CAP = 2000
    # A key in more rows is left to the recheck (`_selective`): `search_newest` ~10 % faster on
    # the benchmark's queries at 100,000 pairs, the same rows (0.3 and 0.15: slower than none).
    COMMON = 0.5
    # What ranks an occurrence: ts_rank's weight of an unpositioned lexeme, 0.1 / (pi²/6).
    PER_OCCURRENCE = 16.4493406685

    def __init__(self) -> None:
        # The GIN indexes' common keys with their share of rows: from which database (URL),
        # when, per index. Another database read in between only makes a ranking approximate.
        self._stats: tuple[str, float, dict[str, dict[str, float]]] = ("", 0.0, {})

    @staticmethod
    def lexemes(first: str, second: str) -> list[str]:
        """A row's words, each occurrence after a word's first tagged with its count."""
        seen: dict[str, int] = {}
        out = []
        for word in _WORD.findall(f"{first} {second}"):
            if len(word.encode()) > 2000:  # PostgreSQL's limit for a lexeme
                continue
            k = seen[word] = seen.get(word, 0) + 1
            out.append(word if k == 1 else f"{word}~{k}")
        return out

    async def drop(self, session: AsyncSession, index: str, rowid: int) -> None:
        assert index in INDEXES
        await session.exec(text(  # type: ignore[call-overload]
            f"WITH d AS (DELETE FROM {index} WHERE rowid = :id RETURNING length(tsv) AS n) "
            f"UPDATE search_stats SET rows = rows - (SELECT count(*) FROM d), "
            f"words = words - (SELECT coalesce(sum(n), 0) FROM d) WHERE name = :index"
        ).bindparams(id=rowid, index=index))

    async def put(self, session: AsyncSession, index: str, rowid: int, first: str,
                  second: str) -> None:
        await self.drop(session, index, rowid)
        words = self.lexemes(first, second)
        await session.exec(text(  # type: ignore[call-overload]
            f"WITH i AS (INSERT INTO {index} (rowid, tsv) VALUES (:id, "
            f"array_to_tsvector(CAST(:words AS text[]))) RETURNING length(tsv) AS n) "
            f"UPDATE search_stats SET rows = rows + 1, words = words + (SELECT n FROM i) "
            f"WHERE name = :index").bindparams(id=rowid, words=words, index=index))

    async def prepare(self, session: AsyncSession) -> None:
        """The GIN indexes' statistics when older than `STATS_TTL`. (No planner settings: told
        `search_newest` gives 100 rows, migration 0022, it fetches matches by primary key.)"""
        url = str(session.sync_session.get_bind().engine.url)
        if self._stats[0] == url and time.monotonic() - self._stats[1] < self.STATS_TTL:
            return
        found: dict[str, dict[str, float]] = {index: {} for index in INDEXES}
        for name, keys, shares in (await session.exec(text(  # type: ignore[call-overload]
                "SELECT tablename, most_common_elems::text::text[], most_common_elem_freqs "
                "FROM pg_stats WHERE tablename IN ('ix_question_search_tsv', "
                "'ix_library_search_tsv', 'ix_decision_search_tsv') "
                "AND most_common_elems IS NOT NULL"))).all():
            found[str(name)[3:-4]] = dict(zip(keys, shares, strict=False))
        self._stats = (url, time.monotonic(), found)

    def _frequency(self, index: str, stem_: str, name: str, params: dict[str, object]) -> str:
        """SQL for how many rows of `index` hold a word starting with `stem_`: the share
        ANALYZE listed, else (a NULL share) counted; the count runs only when needed."""
        params[f"{name}s"] = self._stats[2].get(index, {}).get(stem_[:PREFIX_KEYS])
        params[f"{name}k"] = _keys([stem_], "AND")
        params[f"{name}r"] = len(stem_) > PREFIX_KEYS
        return (f"coalesce(CAST(:{name}s AS float8) * st.rows, (SELECT search_count("
                f"'{index}'::regclass, to_tsquery('simple', :{name}t), to_tsquery('simple', "
                f":{name}k), CAST(:{name}r AS boolean), {self.COUNT_CAP})))")

    def _share(self, index: str, stems: list[str], op: str) -> float | None:
        """The share of rows expected to match (`search_newest` picks its path by it), the
        stems taken as independent; None when a stem it needs is too rare to be listed."""
        listed = self._stats[2].get(index, {})
        found = [x for x in (listed.get(s[:PREFIX_KEYS]) for s in stems) if x is not None]
        if not found or (op == "AND" and len(found) < len(stems)):
            return None
        return math.prod(found) if op == "AND" else 1 - math.prod(1 - x for x in found)

    def _selective(self, index: str, stems: list[str], op: str) -> list[str]:
        """The stems whose keys the GIN index intersects: for AND, not those in over `COMMON` of
        the rows (long posting lists, barely narrowing; rows found are rechecked), or the rarest."""
        if op != "AND" or len(stems) < 2:
            return stems
        listed = self._stats[2].get(index, {})
        share = {s: listed.get(s[:PREFIX_KEYS], 0.0) for s in stems}
        kept = [s for s in stems if share[s] <= self.COMMON]
        return kept or [min(stems, key=lambda s: share[s])]

    def matches(self, index: str, stems: list[str], op: str,
                limit: int = CANDIDATES) -> tuple[str, dict[str, object]]:
        """Words are bound parameters named after the index (one statement may hold all three):
        a statement text per shape (index, stems, AND/OR), compiled and prepared once."""
        assert index in INDEXES
        stems = ["".join(_WORD.findall(s)) for s in stems]
        stems = [s for s in stems if s]
        p = index.split("_")[0]
        params: dict[str, object] = {f"{p}_q": _tsquery(stems, op)}
        ranks, counts, terms_ = [], [], []
        for i, stem_ in enumerate(stems):
            params[f"{p}_{i}t"] = _tsquery([stem_], "AND")
            ranks.append(f"round(ts_rank(tsv, to_tsquery('simple', :{p}_{i}t), 0) * "
                         f"{self.PER_OCCURRENCE}) AS f{i}")
            counts.append(f"{self._frequency(index, stem_, f'{p}_{i}', params)} AS d{i}")
            # bm25's term: IDF × f(k1+1) / (f + k1(1 - b + b·len/avglen)), as FTS5's bm25().
            idf = f"greatest(1e-6, ln((st.rows - d.d{i} + 0.5) / (d.d{i} + 0.5)))"
            terms_.append(f"{idf} * f.f{i} * {self.K1 + 1} / (f.f{i} + {self.K1} * "
                          f"({1 - self.B} + {self.B} * f.len / st.avglen))")
        keyed = self._selective(index, stems, op)
        params[f"{p}_k"] = _keys(keyed, op)
        recheck = ("true" if len(keyed) < len(stems) or any(len(t) > PREFIX_KEYS for t in stems)
                   else "false")
        params[f"{p}_e"] = self._share(index, stems, op)
        sql = (
            # c: the newest `n` matches (migration 0020's `search_newest`) and their vectors.
            f"WITH c AS (SELECT t.rowid, t.tsv FROM search_newest('{index}'::regclass, "
            f"to_tsquery('simple', :{p}_q), to_tsquery('simple', :{p}_k), {recheck}, "
            f"{int(limit)}, CAST(:{p}_e AS float8)) AS m(rowid) "
            f"JOIN {index} t ON t.rowid = m.rowid), "
            f"f AS (SELECT rowid, greatest(length(tsv), 1) AS len, {', '.join(ranks)} FROM c), "
            # st: the index's rows and mean length; d: each stem's document frequency.
            f"st AS MATERIALIZED (SELECT greatest(coalesce(max(rows), 0), 1)::float AS rows, "
            f"greatest(coalesce(max(words), 0), 1)::float / greatest(coalesce(max(rows), 0), "
            f"1) AS avglen FROM search_stats WHERE name = '{index}'), "
            f"d AS MATERIALIZED (SELECT {', '.join(counts) or '0 AS d'} FROM st) "
            f"SELECT f.rowid, -({' + '.join(terms_) or '0'}) AS rank FROM f, st, d")
        return sql, params


_BACKENDS: dict[str, Backend] = {"sqlite": Fts5Backend(), "postgresql": PostgresBackend()}
_FALLBACK: Backend = LikeBackend()


def register_backend(dialect: str, found: Backend) -> None:
    """Use `found` for databases of this SQLAlchemy dialect name ("postgresql")."""
    _BACKENDS[dialect] = found


def backend(db: Database) -> Backend:
    return _BACKENDS.get(db.url.split(":", 1)[0].split("+", 1)[0], _FALLBACK)


def _session_backend(session: AsyncSession) -> Backend:
    return _BACKENDS.get(session.sync_session.get_bind().dialect.name, _FALLBACK)


def _subquery(db: Database, index: str, stems: list[str], op: str,
              limit: int = CANDIDATES) -> Any:
    sql, params = backend(db).matches(index, stems, op, limit)
    return (text(sql).bindparams(**params)
            .columns(column("rowid", Integer), column("rank", Float)).subquery("s"))


# --- feeding the indexes ---------------------------------------------------------------------


async def reindex(session: AsyncSession, question_id: int) -> None:
    """Put a question (and its accepted answer) in the index, or take it out if not visible."""
    found = _session_backend(session)
    question = await session.get(Question, question_id)
    if question is None or question.status in (QuestionStatus.HIDDEN, QuestionStatus.DUPLICATE):
        await found.drop(session, "question_search", question_id)
        return
    answer_text = ""
    if question.accepted_answer_id is not None:
        answer = await session.get(Answer, question.accepted_answer_id)
        if answer is not None and answer.hidden_reason is None:
            answer_text = answer.text
    await found.put(session, "question_search", question_id, normalize(question.text),
                    normalize(answer_text))


def item_text(item: LibraryItem) -> tuple[str, str]:
    """What the index holds of a library item: its titles, and every text in every language."""
    titles = " ".join(t for t in (item.title_ky, item.title_ru, item.title_en) if t)
    body = [item.number or ""]
    for fields in (item.texts or {}).values():
        if isinstance(fields, dict):
            body += [str(v) for k, v in fields.items() if k != "title" and v]
    return normalize(titles), normalize(" ".join(body))


async def reindex_item(session: AsyncSession, item_id: int) -> None:
    """Put a published library item in the index, or take out one that is not (any more)."""
    found = _session_backend(session)
    item = await session.get(LibraryItem, item_id)
    if item is None or item.status != "published":
        await found.drop(session, "library_search", item_id)
        return
    await found.put(session, "library_search", item_id, *item_text(item))


async def reindex_decision(session: AsyncSession, broadcast_id: int) -> None:
    """Put a sent (or scheduled) broadcast in the decisions archive's index."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return
    titles = " ".join(t for t in (broadcast.title, broadcast.title_ky, broadcast.title_en) if t)
    body = " ".join(t for t in (broadcast.text_ky, broadcast.text_ru, broadcast.text_en) if t)
    await _session_backend(session).put(session, "decision_search", broadcast_id,
                                        normalize(titles), normalize(body))


# --- the knowledge base's questions (the /ask similar step, the legal desk) ---------------------


@dataclass(frozen=True)
class Hit:
    question_id: int
    group_id: int
    status: str
    text: str


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    total: int  # capped at QUESTION_CANDIDATES
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def _ranked(db: Database, s: AsyncSession, stems: list[str], group_ids: list[int],
                  statuses: tuple[str, ...] | None, op: str) -> list[int]:
    """The matching questions' ids, best first (at most `QUESTION_CANDIDATES`), in one
    query."""
    s_ = _subquery(db, "question_search", stems, op, QUESTION_CANDIDATES)
    query = (select(Question.id).join(s_, s_.c.rowid == Question.id)
             .where(col(Question.group_id).in_(group_ids or [-1])))
    if statuses:
        query = query.where(col(Question.status).in_(statuses))
    query = query.order_by(s_.c.rank, col(Question.id).desc()).limit(QUESTION_CANDIDATES)
    return [int(r) for r in (await s.exec(query)).all() if r is not None]


async def _hits(s: AsyncSession, ids: list[int]) -> list[Hit]:
    if not ids:
        return []
    rows = (await s.exec(select(Question.id, Question.group_id, Question.status,
                                Question.text).where(col(Question.id).in_(ids)))).all()
    found = {int(r[0] or 0): Hit(int(r[0] or 0), int(r[1]), str(r[2]), str(r[3])) for r in rows}
    return [found[i] for i in ids if i in found]


async def search(db: Database, query: str, group_ids: list[int], page: int = 0,
                 per_page: int = 5) -> Page:
    """Questions matching every stem of `query` (or, failing that, any), best first."""
    stems = terms(query)
    if not stems or not group_ids:
        return Page([], 0, 0, per_page)
    async with db.read() as s:  # one session: the ranking, the page's rows
        await backend(db).prepare(s)
        for op in ("AND", "OR") if len(stems) > 1 else ("AND",):
            ranked = await _ranked(db, s, stems, group_ids, None, op)
            if ranked:
                page = min(max(0, page), (len(ranked) - 1) // per_page)
                hits = await _hits(s, ranked[page * per_page:(page + 1) * per_page])
                return Page(hits, len(ranked), page, per_page)
    return Page([], 0, 0, per_page)


def _similar_stems(text_: str) -> list[str]:
    return sorted(terms(text_, limit=QUERY_MAX_TERMS * 2), key=len, reverse=True)[:SIMILAR_TERMS]


async def similar(db: Database, question_text: str, group_ids: list[int],
                  limit: int = 3) -> list[Hit]:
    """Up to `limit` answered or resolved questions most like `question_text`."""
    stems = _similar_stems(question_text)
    if not stems or not group_ids:
        return []
    s_ = _subquery(db, "question_search", stems, "OR")
    query = (select(Question.id, Question.group_id, Question.status, Question.text)
             .join(s_, s_.c.rowid == Question.id)
             .where(col(Question.group_id).in_(group_ids),
                    col(Question.status).in_((QuestionStatus.ANSWERED.value,
                                              QuestionStatus.RESOLVED.value)))
             .order_by(s_.c.rank, col(Question.id).desc()).limit(limit))
    async with db.read() as s:  # the best few and what they show, at once
        await backend(db).prepare(s)
        rows = (await s.exec(query)).all()
    return [Hit(int(i or 0), int(g), str(st), str(t)) for i, g, st, t in rows]


# --- one search over questions, library items and decisions -----------------------------------

KINDS = ("question", "library", "decision")
# Decisions a member may find: broadcasts that went out (a cancelled one reached some members;
# their receipts say who).
SENT_STATUSES = ("sending", "scheduled", "cancelled")


@dataclass(frozen=True)
class Scope:
    """Who searches: the groups they may read, and whether they see every decision (staff)."""

    member_id: int
    group_ids: list[int]
    staff: bool = False


@dataclass(frozen=True)
class Result:
    kind: str  # "question", "library", "decision"
    id: int
    title: str  # a question's text, an item's title in the reader's language, a broadcast's
    group_id: int | None = None
    detail: str = ""  # the question's status, the item's kind, the broadcast's kind
    when: datetime | None = None


@dataclass(frozen=True)
class Results:
    results: list[Result]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)
    capped: bool = False  # some kind had more matches than were ranked: "total+"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def number_key(value: str) -> str:
    """A legal act's number as compared: lower case, without "№", "N" or spaces."""
    cleaned = normalize(value).replace("№", "").replace(" ", "").strip(" .,;:")
    return cleaned.removeprefix("n") if cleaned[:1] == "n" and cleaned[1:2].isdigit() else cleaned


def _flat(value: str) -> str:
    return " ".join(_WORD.findall(normalize(value)))


Ranked = list[tuple[bool, float, str, int]]
_NO_TITLE = cast(null(), String)


def _questions_part(db: Database, stems: list[str], op: str, group_ids: list[int]) -> Any:
    s_ = _subquery(db, "question_search", stems, op, SECONDARY_CANDIDATES)
    return (sa_select(col(Question.id).label("id"), s_.c.rank.label("rank"),
                   _NO_TITLE.label("t1"), _NO_TITLE.label("t2"), _NO_TITLE.label("t3"))
            .join(s_, s_.c.rowid == Question.id)
            .where(col(Question.group_id).in_(group_ids or [-1]))
            .order_by(s_.c.rank, col(Question.id).desc()).limit(SECONDARY_CANDIDATES))


def _exact_first(rows: Sequence[tuple[int, float, tuple[Any, ...]]], kind: str,
                 exact: str) -> Ranked:
    """Rows (id, rank, titles) best first, marked when a title is exactly the query; an exact
    title ranks high by bm25 anyway, so only the first `EXACT_LOOKS` are compared."""
    return [(i < EXACT_LOOKS and bool(exact) and any(t and _flat(t) == exact for t in titles),
             rank, kind, id_) for i, (id_, rank, titles) in enumerate(rows)]


def _items_part(db: Database, stems: list[str], op: str, group_ids: list[int],
                item_kind: str | None) -> Any:
    s_ = _subquery(db, "library_search", stems, op, SECONDARY_CANDIDATES)
    query = (sa_select(col(LibraryItem.id).label("id"), s_.c.rank.label("rank"),
                    col(LibraryItem.title_ky).label("t1"), col(LibraryItem.title_ru).label("t2"),
                    col(LibraryItem.title_en).label("t3"))
             .join(s_, s_.c.rowid == LibraryItem.id)
             .where(col(LibraryItem.group_id).in_(group_ids or [-1]),
                    col(LibraryItem.status) == "published"))
    if item_kind:
        query = query.where(col(LibraryItem.kind) == item_kind)
    return query.order_by(s_.c.rank, col(LibraryItem.id).desc()).limit(SECONDARY_CANDIDATES)


def _numbered(number: str) -> bool:
    return bool(number) and len(number) <= 100 and any(c.isdigit() for c in number)


def _number_part(number: str, group_ids: list[int], item_kind: str | None) -> Any:
    """Legal acts whose number is the query (numbers are often too short for the index)."""
    query = sa_select(col(LibraryItem.id).label("id"), cast(literal(-1e9), Float).label("rank"),
                   _NO_TITLE.label("t1"), _NO_TITLE.label("t2"), _NO_TITLE.label("t3")).where(
        col(LibraryItem.number_key) == number, col(LibraryItem.status) == "published",
        col(LibraryItem.group_id).in_(group_ids or [-1]))
    if item_kind:
        query = query.where(col(LibraryItem.kind) == item_kind)
    return query.limit(SECONDARY_CANDIDATES)


def _decisions_part(db: Database, stems: list[str], op: str, scope: Scope) -> Any:
    s_ = _subquery(db, "decision_search", stems, op, SECONDARY_CANDIDATES)
    query = (sa_select(col(Broadcast.id).label("id"), s_.c.rank.label("rank"),
                    col(Broadcast.title).label("t1"), col(Broadcast.title_ky).label("t2"),
                    col(Broadcast.title_en).label("t3"))
             .join(s_, s_.c.rowid == Broadcast.id)
             .where(col(Broadcast.status).in_(SENT_STATUSES),
                    col(Broadcast.started_at) <= utcnow()))
    if not scope.staff:
        mine = select(DecisionReceipt.broadcast_id).where(
            DecisionReceipt.member_id == scope.member_id,
            DecisionReceipt.broadcast_id == Broadcast.id).exists()
        query = query.where(mine)
    return query.order_by(s_.c.rank, col(Broadcast.id).desc()).limit(SECONDARY_CANDIDATES)


async def _ranked_parts(s: AsyncSession, parts: dict[str, Any],
                        exact: str) -> tuple[Ranked, Ranked]:
    """Every kind's ranked rows in one statement (one round trip to the database, where the
    three kinds on their own connections waited on each other's threads and round trips),
    best first within each kind, kinds in the order given: (the number's matches, the
    words')."""
    if not parts:
        return [], []
    subs = [p.subquery(f"p_{name}") for name, p in parts.items()]
    query = union_all(*(sa_select(literal(name).label("kind"), sub.c.id, sub.c.rank, sub.c.t1,
                               sub.c.t2, sub.c.t3) for name, sub in zip(parts, subs, strict=True)))
    by_kind: dict[str, list[tuple[int, float, tuple[Any, ...]]]] = {name: [] for name in parts}
    for name, id_, rank, t1, t2, t3 in (await s.exec(query)).all():  # type: ignore[call-overload]
        by_kind[name].append((int(id_ or 0), float(rank or 0), (t1, t2, t3)))
    numbers: Ranked = [(True, rank, "library", id_) for id_, rank, _t in by_kind.pop("number", [])]
    words: Ranked = []
    for name, rows in by_kind.items():
        rows.sort(key=lambda r: (r[1], -r[0]))
        words += _exact_first(rows, name, exact if name != "question" else "")
    return numbers, words


SIDE_BY_SIDE = True  # PostgreSQL: kinds side by side in plain SQL (search_sql.py); off: via ORM


def _is_postgres(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


Shown = dict[tuple[str, int], tuple[Any, ...]]


async def _ranked_on_postgres(db: Database, statements: dict[str, tuple[str, dict[str, Any]]],
                              exact: str, shown: Shown) -> tuple[Ranked, Ranked]:
    """The kinds ranked with plain SQL, each on a driver connection of its own, at
    once. What the first rows display goes into `shown` ((kind, id): group, body, detail,
    when, titles)."""

    done = await search_sql.fetch_side_by_side(db, list(statements.values()))
    numbers: Ranked = []
    words: Ranked = []
    for name, rows in zip(statements, done, strict=True):
        kind = "library" if name == "number" else name
        for id_, _rank, t1, t2, t3, group, body, detail, at in rows:
            if detail is not None:
                shown[kind, id_] = (group, body, detail, at, t1, t2, t3)
        if name == "number":
            numbers += [(True, float(rank), "library", int(id_)) for id_, rank, *_ in rows]
            continue
        # Best first already: the statement orders its rows by (rank, id descending).
        ranked = [(int(r[0]), float(r[1] or 0), (r[2], r[3], r[4])) for r in rows]
        words += _exact_first(ranked, name, exact if name != "question" else "")
    return numbers, words


def _postgres_statements(db: Database, stems: list[str], op: str, kinds: tuple[str, ...],
                         scope: Scope, group_ids: list[int], item_kind: str | None,
                         number: str | None, shown: int) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each kind's statement (named parameters) for one pass of `everything`."""
    base: dict[str, Any] = {"groups": group_ids, "shown": shown, "item_kind": item_kind}
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    if number is not None:
        out["number"] = (search_sql.number_sql(bool(item_kind), SECONDARY_CANDIDATES),
                         {**base, "number": number})
    for kind in kinds if stems else ():
        matches, params = backend(db).matches(f"{kind}_search", stems, op, SECONDARY_CANDIDATES)
        if kind == "decision":
            params.update(statuses=list(SENT_STATUSES), now=utcnow(), member=scope.member_id)
        statement = search_sql.kind_sql(kind, matches, bool(item_kind), scope.staff,
                                        SECONDARY_CANDIDATES, EXACT_LOOKS)
        out[kind] = (statement, {**base, **params})
    return out


def _result(kind: str, id_: int, shown: tuple[Any, ...], language: str) -> Result:
    """A shown row as the member sees it (`_results` reads the same from the tables)."""
    group, body, detail, at, t1, t2, t3 = shown
    when = at.astimezone(UTC) if at is not None else None
    if kind == "question":
        return Result("question", id_, body, group, detail, when)
    if kind == "library":
        return Result("library", id_, item_title(language, t1, t2, t3), group, detail, when)
    return Result("decision", id_, decision_title(language, t1, t2, t3), None, detail, when)


async def everything(db: Database, query: str, scope: Scope, *, kinds: tuple[str, ...] = KINDS,
                     group_id: int | None = None, item_kind: str | None = None,
                     language: str = "ru", page: int = 0, per_page: int = 5) -> Results:
    """`/search`: answered questions, library items and decisions the member may see, best
    first: an exact title (or legal-act number) first, then by rank. Any text is a safe query.
    One session: each pass (every stem, then any stem) is one statement over the kinds; on
    PostgreSQL each kind is its own statement on its own connection, all at once."""
    query = query[:4000]
    stems = terms(query)
    exact, number = _flat(query), number_key(query)
    group_ids = [g for g in scope.group_ids if group_id is None or g == group_id]
    if group_id is not None or item_kind:
        kinds = tuple(k for k in kinds if k != "decision")  # decisions have no group or kind
    if item_kind:
        kinds = tuple(k for k in kinds if k == "library")
    numbered = "library" in kinds and _numbered(number)
    ops = ("AND", "OR") if len(stems) > 1 else ("AND",)
    found: Ranked = []
    plain = SIDE_BY_SIDE and _is_postgres(db)
    shown: Shown = {}
    async with db.read() as s:
        await backend(db).prepare(s)
        if plain:  # prepare's connection goes back before the kinds take theirs at once
            await s.close()
        for i, op in enumerate(ops if stems else ("",)):
            if plain:
                numbers, words = await _ranked_on_postgres(db, _postgres_statements(
                    db, stems, op, kinds, scope, group_ids, item_kind,
                    number if numbered and i == 0 else None, (max(0, page) + 1) * per_page
                    + EXACT_LOOKS), exact, shown)
                found += numbers
                if words:
                    found += words
                    break
                continue
            parts: dict[str, Any] = {}
            if numbered and i == 0:
                parts["number"] = _number_part(number, group_ids, item_kind)
            if stems and "question" in kinds:
                parts["question"] = _questions_part(db, stems, op, group_ids)
            if stems and "library" in kinds:
                parts["library"] = _items_part(db, stems, op, group_ids, item_kind)
            if stems and "decision" in kinds:
                parts["decision"] = _decisions_part(db, stems, op, scope)
            numbers, words = await _ranked_parts(s, parts, exact)
            found += numbers
            if words:
                found += words
                break
        seen: set[tuple[str, int]] = set()
        merged = []
        for _hit, _rank, kind, id_ in sorted(found, key=lambda f: (not f[0], f[1])):
            if (kind, id_) not in seen:
                seen.add((kind, id_))
                merged.append((kind, id_))
        merged = merged[:COUNT_CAP]
        counts: dict[str, int] = {}
        for kind, _id in merged:
            counts[kind] = counts.get(kind, 0) + 1
        if not merged:
            return Results([], 0, 0, per_page)
        page = min(max(0, page), (len(merged) - 1) // per_page)
        wanted = merged[page * per_page:(page + 1) * per_page]
        read = {w: _result(*w, shown[w], language) for w in wanted if w in shown}
        if len(read) < len(wanted):  # a row past those the ranking gave with what it displays
            read.update(((r.kind, r.id), r) for r in await _results(
                s, [w for w in wanted if w not in read], language))
        results = [read[w] for w in wanted if w in read]
    capped = any(n >= SECONDARY_CANDIDATES for n in counts.values())
    return Results(results, len(merged), page, per_page, counts, capped)


async def _results(s: AsyncSession, wanted: list[tuple[str, int]],
                   language: str) -> list[Result]:
    ids: dict[str, list[int]] = {k: [i for kind, i in wanted if kind == k] for k in KINDS}
    out: dict[tuple[str, int], Result] = {}
    if ids["question"]:
        for i, g, t, st, w in (await s.exec(select(  # type: ignore[call-overload]
                Question.id, Question.group_id, Question.text, Question.status,
                Question.created_at).where(col(Question.id).in_(ids["question"])))).all():
            out["question", int(i or 0)] = Result("question", int(i or 0), t, g, st, w)
    if ids["library"]:
        for i, g, kind, ky, ru, en, w in (await s.exec(select(  # type: ignore[call-overload]
                LibraryItem.id, LibraryItem.group_id, LibraryItem.kind, LibraryItem.title_ky,
                LibraryItem.title_ru, LibraryItem.title_en, LibraryItem.published_at)
                .where(col(LibraryItem.id).in_(ids["library"])))).all():
            out["library", int(i or 0)] = Result(
                "library", int(i or 0), item_title(language, ky, ru, en), g, kind, w)
    if ids["decision"]:
        for i, ru, ky, en, k, w in (await s.exec(select(  # type: ignore[call-overload]
                Broadcast.id, Broadcast.title, Broadcast.title_ky, Broadcast.title_en,
                Broadcast.kind, Broadcast.started_at)
                .where(col(Broadcast.id).in_(ids["decision"])))).all():
            out["decision", int(i or 0)] = Result(
                "decision", int(i or 0), decision_title(language, ru, ky, en), None, k, w)
    return [out[w] for w in wanted if w in out]


@dataclass(frozen=True)
class ItemHit:
    item_id: int
    kind: str
    title: str


async def similar_items(db: Database, question_text: str, group_ids: list[int],
                        language: str = "ru", limit: int = 2) -> list[ItemHit]:
    """Up to `limit` published library items most like a question (the /ask similar step)."""
    stems = _similar_stems(question_text)
    if not stems or not group_ids:
        return []
    s_ = _subquery(db, "library_search", stems, "OR")
    query = (select(LibraryItem).join(s_, s_.c.rowid == LibraryItem.id)
             .where(col(LibraryItem.group_id).in_(group_ids), LibraryItem.status == "published")
             .order_by(s_.c.rank, col(LibraryItem.id).desc()).limit(limit))
    async with db.read() as s:
        await backend(db).prepare(s)
        return [ItemHit(i.id or 0, i.kind, i.title(language))
                for i in (await s.exec(query)).all()]
