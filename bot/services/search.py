"""The knowledge base's search: questions and their accepted answers, in Kyrgyz and Russian.

The choice: SQLite FTS5 over word tokens (`unicode61`) with prefix indexes, queried with stems.
- FTS5 ships no stemmer for Kyrgyz or Russian. Kyrgyz is agglutinative (бюджет, бюджеттик,
  бюджетке, бюджеттин) and Russian inflects (бюджет, бюджета, бюджетный). Each query word is
  cut to its stem — Russian by Snowball (`snowballstemmer`, the well-kept library Sphinx uses),
  Kyrgyz by a small suffix stripper of our own (no maintained Kyrgyz stemmer exists) — and the
  stem is matched as a *prefix* of the indexed words, so "бюджет*" finds every form above in
  either language. The text is indexed as written (lower-cased), so nothing is lost to a stemmer.
- We first tried the trigram tokenizer (substring matching without stems). On 30,000 generated
  pairs it was 2–5 times slower than word prefixes and its index twice the size, so it went.
- The query is cut into words (letters and digits only: quotes, `NEAR`, `*`, `-`, parentheses
  never reach FTS5 as syntax), stop words dropped, and every stem is quoted: a query is never
  FTS syntax, so no query errors.
- Ranking (bm25) is computed over at most the newest `CANDIDATES` matches: a common word matches
  a large part of 100,000 questions, and ranking all of them cost 50–200 ms. Among recent
  matches the best ranked come first, which is also what members want from a knowledge base.
- Search asks for all stems (falling back to any stem when nothing has all); the similar-question
  lookup asks for any of the longest stems and keeps the best three answered questions.
- Only visible questions are in the index (`reindex` is called by every change that affects what
  a question shows), so hidden content disappears from search at once.
On PostgreSQL the same stems are matched with ILIKE over a plain table (untested here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.enums import QuestionStatus
from storage.models import Answer, Question

QUERY_MAX_TERMS = 8
SIMILAR_TERMS = 6
MIN_STEM = 4
# Ranking covers the newest matches only; the count shown is capped at the same number.
CANDIDATES = COUNT_CAP = 1000

STOP_WORDS = frozenset("""
и в во на по для как что это или но не ни из за от до при про под над без так там тут
где когда какой какая какие каким чтобы если уже еще ещё есть был была были быть его ее её
их они она оно мы вы он я у к с о об а же ли бы то все всё вот нужно можно надо
жана менен үчүн боюнча кандай эмне бул ошол деген керек болот болуп бар жок да дагы же
ким кайда качан канча мен сен биз силер алар ал эле гана ар бир кантип кандайча
эмнеге
the and for with what how
""".split())

# Kyrgyz case, possessive, plural and derivational endings in each vowel-harmony variant,
# longest first; stripped repeatedly while at least `MIN_STEM` letters remain.
_KY_SUFFIXES = sorted(set("""
лар лер лор лөр дар дер дор дөр тар тер тор төр
дын дин дун дүн тын тин тун түн нын нин нун нүн
га ге го гө ка ке ко кө на не но нө
да де до дө та те то тө нда нде ндо ндө
дан ден дон дөн тан тен тон төн нан нен нон нөн
ды ди ду дү ты ти ту тү ны ни ну нү
сы си су сү ым им ум үм ыбыз ибиз убуз үбүз
лык лик лук лүк дык дик дук дүк тык тик тук түк
чы чи чу чү ган ген гон гөн кан кен кон көн
ын ин ун үн быз биз буз бүз мын мин мун мүн
""".split()), key=len, reverse=True)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яёөүң]")
_KYRGYZ_LETTERS = re.compile(r"[өүң]")
_ru = snowballstemmer.stemmer("russian")
_en = snowballstemmer.stemmer("english")


def normalize(value: str) -> str:
    return value.lower().replace("ё", "е")


def _ky_stem(word: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _KY_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
                word = word[: -len(suffix)]
                changed = True
                break
    # г/к and б/п alternate before a vowel (салык, салыгы): the stem stops before them.
    if word[-1:] in "гкбп" and len(word) > MIN_STEM:
        word = word[:-1]
    return word


# Adjective-forming endings Snowball leaves on (бюджетн-ый, земельн-ый, районн-ый, област-ной):
# without them the stem matches the noun and its Kyrgyz forms too (бюджет, бюджеттик).
_RU_ADJECTIVAL = ("нн", "н", "ск", "ов", "ев")


def _ru_stem(word: str) -> str:
    stemmed = str(_ru.stemWord(word))
    for ending in _RU_ADJECTIVAL:
        if stemmed.endswith(ending) and len(stemmed) - len(ending) >= MIN_STEM + 1:
            return stemmed[: -len(ending)]
    return stemmed


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The shortest safe stem of one lower-case word (never shorter than `MIN_STEM`)."""
    if len(word) <= MIN_STEM:
        return word
    if _CYRILLIC.search(word):
        candidates = [_ky_stem(word)]
        if not _KYRGYZ_LETTERS.search(word):
            candidates.append(_ru_stem(word))
    else:
        candidates = [_en.stemWord(word)]
    best = min(candidates, key=len)
    return best if len(best) >= MIN_STEM else word[:MIN_STEM]


def terms(query: str, limit: int = QUERY_MAX_TERMS) -> list[str]:
    """The distinct stems of a query, in order; everything that is not a word is dropped."""
    seen: list[str] = []
    for word in _WORD.findall(normalize(query[:4000])):
        if len(word) < 3 or word in STOP_WORDS:
            continue
        s = stem(word)
        if s not in seen:
            seen.append(s)
        if len(seen) >= limit * 4:
            break
    return seen[:limit]


def _match(stems: list[str], op: str) -> str:
    # Stems hold letters and digits only, so quoting them makes each a plain prefix query.
    return f" {op} ".join(f'"{s}"*' for s in stems)


@dataclass(frozen=True)
class Hit:
    question_id: int
    group_id: int
    status: str
    text: str


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    total: int  # capped at COUNT_CAP
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def reindex(session: AsyncSession, question_id: int) -> None:
    """Put a question (and its accepted answer) in the index, or take it out if not visible."""
    await session.exec(text("DELETE FROM question_search WHERE rowid = :id")  # type: ignore[call-overload]
                       .bindparams(id=question_id))
    question = await session.get(Question, question_id)
    if question is None or question.status in (QuestionStatus.HIDDEN, QuestionStatus.DUPLICATE):
        return
    answer_text = ""
    if question.accepted_answer_id is not None:
        answer = await session.get(Answer, question.accepted_answer_id)
        if answer is not None and answer.hidden_reason is None:
            answer_text = answer.text
    await session.exec(text(  # type: ignore[call-overload]
        "INSERT INTO question_search (rowid, question, answer) VALUES (:id, :q, :a)"
    ).bindparams(id=question_id, q=normalize(question.text), a=normalize(answer_text)))


def _is_sqlite(db: Database) -> bool:
    return db.url.startswith("sqlite")


def _sql(db: Database, stems: list[str], group_ids: list[int],
         statuses: tuple[str, ...] | None, op: str) -> tuple[str, str, dict[str, object]]:
    """FROM ... WHERE ... for the matching questions, and the ORDER BY that ranks them."""
    params: dict[str, object] = {}
    groups = ",".join(str(int(g)) for g in group_ids) or "NULL"
    where = f"q.group_id IN ({groups})"
    if statuses:
        where += " AND q.status IN (" + ",".join(f"'{s}'" for s in statuses) + ")"
    if _is_sqlite(db):
        params["match"] = _match(stems, op)
        matches = ("SELECT rowid, rank FROM question_search WHERE question_search MATCH :match "
                   f"ORDER BY rowid DESC LIMIT {CANDIDATES}")
        return (f"FROM ({matches}) s JOIN question q ON q.id = s.rowid WHERE {where}",
                "s.rank", params)
    clauses = []
    for i, stem_ in enumerate(stems):
        params[f"t{i}"] = f"%{stem_}%"
        clauses.append(f"(s.question ILIKE :t{i} OR s.answer ILIKE :t{i})")
    return (f"FROM question_search s JOIN question q ON q.id = s.rowid "
            f"WHERE ({f' {op} '.join(clauses)}) AND {where}", "q.id DESC", params)


async def _ranked(db: Database, stems: list[str], group_ids: list[int],
                  statuses: tuple[str, ...] | None, op: str) -> list[int]:
    """The matching questions' ids, best first (at most `CANDIDATES`), in one query."""
    body, order, params = _sql(db, stems, group_ids, statuses, op)
    sql = f"SELECT q.id {body} ORDER BY {order} LIMIT {CANDIDATES}"
    async with db.read() as s:
        rows = (await s.exec(text(sql).bindparams(**params))).all()  # type: ignore[call-overload]
    return [int(r[0]) for r in rows]


async def _hits(db: Database, ids: list[int]) -> list[Hit]:
    if not ids:
        return []
    async with db.read() as s:
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
    for op in ("AND", "OR") if len(stems) > 1 else ("AND",):
        ranked = await _ranked(db, stems, group_ids, None, op)
        if ranked:
            page = min(max(0, page), (len(ranked) - 1) // per_page)
            hits = await _hits(db, ranked[page * per_page:(page + 1) * per_page])
            return Page(hits, len(ranked), page, per_page)
    return Page([], 0, 0, per_page)


async def similar(db: Database, question_text: str, group_ids: list[int],
                  limit: int = 3) -> list[Hit]:
    """Up to `limit` answered or resolved questions most like `question_text`."""
    stems = sorted(terms(question_text, limit=QUERY_MAX_TERMS * 2), key=len,
                   reverse=True)[:SIMILAR_TERMS]
    if not stems or not group_ids:
        return []
    ranked = await _ranked(db, stems, group_ids,
                           (QuestionStatus.ANSWERED.value, QuestionStatus.RESOLVED.value), "OR")
    return await _hits(db, ranked[:limit])
