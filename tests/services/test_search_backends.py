"""The knowledge base's search behaves alike on SQLite (FTS5) and PostgreSQL (tsvector): stems
match as word prefixes in both languages, the closer match ranks first, and no text a member
can type breaks it."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import text

from bot.services import groups, questions, search
from bot.services.questions import QuestionDraft
from storage.db import Database
from storage.migrate import upgrade
from tests import factories as f

ODD = ['"', "'", "NEAR(бюджет", "бюджет*", "-бюджет", "()", "!:*&|", "a:* & b", "\\", "%_",
       "ʼбюджетʼ", "бюджет\u0301", "ǅ", "١٢٣ бюджет", "x" * 5000, "'; DROP TABLE question--",
       "😀 бюджет 😀", "\x00бюджет", "бюджет-бюджет", "2024-жылдын бюджети"]


async def _setup(db: Database) -> tuple[int, int, list[int]]:
    asker = await f.member(db, "Асель Маматова")
    group = await f.group_id(db, "budget")
    mod = await f.moderator(db, "Модератор Бюджета", "budget")
    strong = await questions.ask_question(db, asker.id, QuestionDraft(
        group, "Бюджет айыл өкмөтүнүн бюджети: бюджеттик комиссия бюджетти качан карайт?"))
    weak = await questions.ask_question(db, asker.id, QuestionDraft(
        group, "Жер участогун ижарага берүү тартиби кандай, жана бюджет жөнүндө бир суроо?"))
    for q in (strong, weak):
        await questions.answer_question(db, mod.id, q, "Жооп: мыйзам боюнча отуз күн ичинде.")
    return strong, weak, await groups.readable_groups(db, asker.id)


async def test_the_closer_match_ranks_first_and_forms_find_each_other(db: Database) -> None:
    strong, weak, readable = await _setup(db)
    for query in ("бюджет", "бюджеттик", "бюджетке", "бюджета"):
        hits = [h.question_id for h in (await search.search(db, query, readable)).hits]
        assert hits[:2] == [strong, weak], query
    similar = await search.similar(db, "Бюджеттик комиссия бюджетти качан карайт?", readable)
    assert [h.question_id for h in similar][:1] == [strong]
    assert [h.question_id for h in (await search.search(db, "ижара", readable)).hits] == [weak]


async def test_no_typed_text_breaks_search(db: Database) -> None:
    _strong, _weak, readable = await _setup(db)
    for query in ODD:
        page = await search.search(db, query, readable)
        assert page.total >= 0, query
        await search.similar(db, query, readable)


async def test_postgresql_uses_its_full_text_index(db: Database) -> None:
    if not db.url.startswith("postgresql"):
        return
    await _setup(db)
    async with db.read(transaction=True) as s:  # SET LOCAL lasts for a transaction
        await s.exec(text("SET LOCAL enable_seqscan = off"))  # type: ignore[call-overload]
        plan = "\n".join(r[0] for r in (await s.exec(text(  # type: ignore[call-overload]
            "EXPLAIN SELECT rowid FROM question_search "
            "WHERE search_keys(tsv) @@ to_tsquery('simple', '''бюдж''')"))).all())
        assert "ix_question_search_tsv" in plan  # the words' prefixes (0018)
        keys = (await s.exec(text(  # type: ignore[call-overload]
            "SELECT search_keys(to_tsvector('simple', 'Бюджеттик комиссия'))"))).one()[0]
        assert {w.strip("'") for w in str(keys).split()} == {
            "бюд", "бюдж", "бюдже", "бюджет", "ком", "коми", "комис", "комисс"}
        indexes = (await s.exec(text(  # type: ignore[call-overload]
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_%_search_tsv'"))).all()
        # Told 1,000 rows the planner hashed whole tables to join the matches (0022).
        rows = (await s.exec(text(  # type: ignore[call-overload]
            "SELECT prorows FROM pg_proc WHERE proname = 'search_newest' "
            "AND pronargs = 6"))).one()[0]
    assert rows == 100
    assert {r[0] for r in indexes} == {"ix_question_search_tsv", "ix_library_search_tsv",
                                       "ix_decision_search_tsv"}


async def test_a_rare_word_outweighs_a_common_one_on_both_databases(db: Database) -> None:
    """The /ask similar step: a question sharing the rare word comes before questions that
    only repeat the word every question has (bm25's IDF, on PostgreSQL as on SQLite)."""
    asker = await f.member(db, "Асель Маматова")
    group = await f.group_id(db, "budget")
    mod = await f.moderator(db, "Модератор Бюджета", "budget")
    common = [await questions.ask_question(db, asker.id, QuestionDraft(
        group, f"Бюджет, бюджет жана дагы бюджет: айылдын бюджети качан бекитилет? ({n})"))
        for n in range(5)]
    rare = await questions.ask_question(db, asker.id, QuestionDraft(
        group, "Ирригациялык каналды ким тазалайт жана качан?"))
    for q in (*common, rare):
        await questions.answer_question(db, mod.id, q, "Жооп: мыйзам боюнча отуз күн ичинде.")
    readable = await groups.readable_groups(db, asker.id)
    similar = await search.similar(db, "Ирригациялык бюджет", readable)
    assert [h.question_id for h in similar][:1] == [rare]


async def test_postgresql_counts_every_occurrence_as_sqlite_does(db: Database) -> None:
    """bm25 on PostgreSQL reads how often a word occurs and how many words a question has from
    the index (as FTS5 does): every occurrence is in the vector, and the index's row and word
    counts follow each question asked and hidden."""
    strong, weak, readable = await _setup(db)
    assert [h.question_id for h in (await search.search(db, "бюджет", readable)).hits] == [
        strong, weak]
    if not db.url.startswith("postgresql"):
        return
    moderator = await f.moderator(db, "Модератор Жер", "budget")
    await questions.hide_question(db, moderator.id, weak, "spam")
    async with db.read() as s:
        counted = (await s.exec(text(  # type: ignore[call-overload]
            "SELECT count(*), coalesce(sum(length(tsv)), 0) FROM question_search"))).one()
        kept = (await s.exec(text(  # type: ignore[call-overload]
            "SELECT rows, words FROM search_stats WHERE name = 'question_search'"))).one()
        vector = (await s.exec(text(  # type: ignore[call-overload]
            "SELECT tsv::text FROM question_search WHERE rowid = :id").bindparams(
                id=strong))).one()[0]
    assert tuple(kept) == tuple(counted) == (1, 9)  # the strong question's nine words
    assert "'бюджет'" in vector and "'бюджети'" in vector and "'комиссия'" in vector
    assert search.PostgresBackend.lexemes("суу суу бюджет", "суу") == [
        "суу", "суу~2", "бюджет", "суу~3"]


async def test_postgresql_finds_the_newest_matches_whichever_way_it_reads(db: Database) -> None:
    """`search_newest` (migration 0020) reads the newest rows, the GIN index over a span of the
    newest rowids, or the whole GIN index, as the expected share of matches says; a wrong
    guess (a share far too high or too low, or none) costs time, never a match."""
    if not db.url.startswith("postgresql"):
        return
    asker = await f.member(db, "Асель Маматова")
    group = await f.group_id(db, "budget")
    asked = [await questions.ask_question(db, asker.id, QuestionDraft(
        group, f"Ирригациялык канал {n}-участокто качан тазаланат?" if n % 3 == 0 else
        f"Айыл өкмөтүнүн бюджети {n}-жылы качан бекитилет?")) for n in range(40)]
    canals = sorted((q for n, q in enumerate(asked) if n % 3 == 0), reverse=True)
    query, keys = search._tsquery(["ирригац"], "AND"), search._keys(["ирригац"], "AND")
    async with db.read() as s:
        for n in (1, 5, 12, 14, 30):
            for share in (None, 0.0001, 0.2, 0.34, 1.0):
                found = (await s.exec(text(  # type: ignore[call-overload]
                    "SELECT * FROM search_newest('question_search'::regclass, "
                    "to_tsquery('simple', :q), to_tsquery('simple', :k), true, :n, "
                    "CAST(:e AS float8))").bindparams(q=query, k=keys, n=n, e=share))).all()
                assert sorted((r[0] for r in found), reverse=True) == canals[:n], (n, share)


async def test_postgresql_leaves_a_word_in_most_rows_to_the_recheck(db: Database) -> None:
    """A finance officer searches "бюджет канал": "бюджет" is in nearly every question, so the
    GIN index intersects only the rarer word's key and each row found is checked for both
    (`PostgresBackend._selective`); a question about a canal without the budget is not found."""
    if not db.url.startswith("postgresql"):
        return
    asker = await f.member(db, "Асель Маматова")
    group = await f.group_id(db, "budget")
    texts = ["Бюджеттен канал тазалоого {n} сом качан бөлүнөт?", "Канал {n} качан тазаланат?",
             "Айыл өкмөтүнүн бюджети {n}-жылы качан бекитилет?"]
    asked = [await questions.ask_question(db, asker.id, QuestionDraft(
        group, texts[n % 3].format(n=n))) for n in range(12)]
    pg = search.backend(db)
    assert isinstance(pg, search.PostgresBackend)
    async with db.read() as s:
        await pg.prepare(s)
    listed, (budget, canal) = pg._stats[2]["question_search"], search.terms("бюджет канал")
    listed.update({budget: 0.99, canal: 0.05})
    try:
        assert pg._selective("question_search", [budget, canal], "AND") == [canal]
        assert pg._selective("question_search", [budget], "AND") == [budget]
        assert pg._selective("question_search", [budget, canal], "OR") == [budget, canal]
        listed[canal] = 0.9  # both common: the rarer is kept
        assert pg._selective("question_search", [budget, canal], "AND") == [canal]
        listed[canal] = 0.05
        found = await search.search(db, "бюджет канал", [group])
        assert sorted(h.question_id for h in found.hits) == sorted(
            q for n, q in enumerate(asked) if n % 3 == 0)
    finally:
        pg._stats = ("", 0.0, {})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_finds_questions_asked_before_its_longer_prefix_indexes(
        empty_db_url: str) -> None:
    """Migration 0023 rebuilds SQLite's search indexes with prefix indexes of 3-12 letters, so
    a long stem ("трансферт") is read from one index, not merged from every word it starts; the
    questions already asked are still found, ranked as before."""
    await asyncio.to_thread(upgrade, empty_db_url, "0022_library")
    db = Database(empty_db_url)
    try:
        strong, weak, readable = await _setup(db)
        asker = await f.member(db, "Бакыт Осмонов")
        group = await f.group_id(db, "budget")
        transfer = await questions.ask_question(db, asker.id, QuestionDraft(
            group, "Трансферттер кайсы айда келет жана трансферттик каражат кантип бөлүнөт?"))
        before = {q: [h.question_id for h in (await search.search(db, q, readable)).hits]
                  for q in ("бюджет", "трансферттер", "муниципалитеттин бюджети")}
        await asyncio.to_thread(upgrade, empty_db_url)
        after = {q: [h.question_id for h in (await search.search(db, q, readable)).hits]
                 for q in before}
        async with db.read() as s:
            created = [r[0] for r in (await s.exec(text(  # type: ignore[call-overload]
                "SELECT sql FROM sqlite_master WHERE name IN ('question_search', "
                "'library_search', 'decision_search')"))).all()]
    finally:
        await db.dispose()
    assert after == before
    assert after["бюджет"][:2] == [strong, weak] and after["трансферттер"] == [transfer]
    assert len(created) == 3
    for sql in created:
        prefixes = re.search(r"prefix\s*=\s*'([\d ]+)'", sql)
        assert prefixes is not None and set(prefixes.group(1).split()) == {
            str(n) for n in range(3, 13)}, sql


async def test_postgresql_search_in_plain_sql_shows_what_the_orm_statements_show(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """`/search` on PostgreSQL runs each kind as plain SQL on a driver connection, with what the
    first rows display; the SQLAlchemy statements (one statement for all kinds) give the same
    results, and a row the ranking gave without its display is read from the tables."""
    if not db.url.startswith("postgresql"):
        return
    _strong, _weak, readable = await _setup(db)
    asker = await f.member(db, "Бакыт Осмонов")
    group = await f.group_id(db, "budget")
    for i in range(12):
        await questions.ask_question(db, asker.id, QuestionDraft(
            group, f"Бюджеттин {i}-бөлүгү жана жер салыгы боюнча суроо"))
    scope = search.Scope(asker.id, readable)

    async def both(query: str, **kw: object) -> tuple[search.Results, search.Results]:
        monkeypatch.setattr(search, "SIDE_BY_SIDE", False)
        orm = await search.everything(db, query, scope, **kw)  # type: ignore[arg-type]
        monkeypatch.setattr(search, "SIDE_BY_SIDE", True)
        return orm, await search.everything(db, query, scope, **kw)  # type: ignore[arg-type]

    for query in ("бюджет", "жер салык", "бюджет ижара", *ODD):
        for page in (0, 1, 3, 40):
            orm, plain = await both(query, page=page, per_page=2)
            assert plain == orm, (query, page)
    orm, plain = await both("бюджет", page=2, per_page=3, language="ky")
    assert plain == orm and plain.results

    real = search._postgres_statements

    def nothing_shown(*args: object, **kw: object) -> dict[str, tuple[str, dict[str, object]]]:
        return {name: (sql, {**params, "shown": 0})
                for name, (sql, params) in real(*args, **kw).items()}  # type: ignore[arg-type]

    monkeypatch.setattr(search, "_postgres_statements", nothing_shown)
    orm, plain = await both("бюджет", page=1, per_page=4)
    assert plain == orm and len(plain.results) == 4


async def test_twenty_members_searching_at_once_never_fill_the_pool_between_them(
        db_url: str) -> None:
    """Each PostgreSQL search takes a connection per kind; taken one by one, twenty searches
    at once each held one and waited for the rest until the pool's timeout. A pool of three
    (and one with a single connection, where the kinds take turns on it) answers them all."""
    if not db_url.startswith("postgresql"):
        return
    for size, overflow in ((2, 1), (1, 0)):
        db = Database(db_url, size, overflow)
        try:
            if size == 2:
                await _setup(db)
            asker = await f.member(db, "Айбек Пулов" if size == 2 else "Бекзат Пулов")
            scope = search.Scope(asker.id, await groups.readable_groups(db, asker.id))
            found = await asyncio.wait_for(asyncio.gather(*(
                search.everything(db, "бюджет", scope) for _ in range(20))), 20)
            assert all(r.results for r in found) and len({repr(r) for r in found}) == 1
        finally:
            await db.dispose()
