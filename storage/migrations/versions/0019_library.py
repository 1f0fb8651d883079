"""library: PostgreSQL ranks search results as SQLite's bm25 does, and finds the newest matches fast

Revision ID: 0019_library
Revises: 0019_year_indexes
Create Date: 2026-11-30 12:10:00

`search_newest(index, query, keys, recheck, n)` gives the rowids of the newest `n` rows of a
search table (`question_search`, `library_search`, `decision_search`) whose vector matches
`query` (word prefixes), as FTS5's `MATCH … ORDER BY rowid DESC LIMIT n` does on SQLite.
Measured at 100,000 questions (`scripts/bench_search.py --database local`, EXPLAIN ANALYZE):
a fixed window of the newest ~17,000 rows read until `n` matched (0018) cost 12 ms and, for two
words together in 5 % of the rows, still fell short, and then the GIN index gave all 8,000
matches, each fetched from the table to compare its rowid and the longer stems: 35 ms more.
Now, in one round trip:
1. the newest `3n` rows are read newest first until `n` match (a common word: done, ~1 ms);
2. else, from how many of them matched, the span of newest rowids that should hold `n` matches
   (half as much again) is read through the GIN index and the primary key together (a
   BitmapAnd: only the span's matches are fetched, ~5 ms);
3. else (a rare combination) the GIN index gives every match (then few).
`keys` is the query on `search_keys(tsv)` (each stem's first 6 letters, exact keys);
`recheck` says a stem is longer than 6 letters, so a match is checked on the row's words.

Ranking as FTS5's bm25 (top-5 agreement with SQLite was 0.49-0.83): a term's frequency in a row
and the row's length in words could not be read from a vector of distinct words (`ts_rank`
gives 1, 1.25, 1.36 … for 1, 2, 3 … occurrences). Now each occurrence of a word after the first
is its own lexeme, tagged with its count (`бюджет`, `бюджет~2`, `бюджет~3`): a stem's `ts_rank`
is exactly its occurrences, `length(tsv)` the row's words, and prefixes match as before.
`search_stats` keeps each index's rows and words (for bm25's N and mean length), kept by
`PostgresBackend.put`/`drop` in the writer's transaction. The vectors already stored are
rewritten here from their positions.
SQLite keeps FTS5: nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0019_library'
down_revision: str | None = '0019_year_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Through the indexes only (a bitmap of the GIN index, with the primary key's range when there
# is one): left to itself the planner read the range by primary key and computed
# `search_keys(tsv)` for every row, 25 µs each.
KEYED = """
CREATE OR REPLACE FUNCTION search_keyed(tbl regclass, q tsquery, keys tsquery,
                                        recheck boolean, above integer, n integer)
RETURNS integer[] LANGUAGE plpgsql STABLE
SET enable_indexscan = off SET enable_seqscan = off AS $$
DECLARE
  ids integer[];
BEGIN
  EXECUTE format('SELECT array(SELECT rowid FROM %s WHERE search_keys(tsv) @@ $1 '
                 'AND rowid > $2%s ORDER BY rowid DESC LIMIT $3)', tbl,
                 CASE WHEN recheck THEN ' AND tsv @@ $4' ELSE '' END)
    INTO ids USING keys, above, n, q;
  RETURN ids;
END $$
"""

# How many rows hold a (rare) key, up to `cap`: bm25's document frequency of a key ANALYZE did
# not list; through the GIN index only (a seq scan computes `search_keys` for every row).
COUNT = """
CREATE OR REPLACE FUNCTION search_count(tbl regclass, q tsquery, keys tsquery,
                                        recheck boolean, cap integer)
RETURNS bigint LANGUAGE plpgsql STABLE
SET enable_indexscan = off SET enable_seqscan = off AS $$
DECLARE
  found bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s WHERE search_keys(tsv) @@ $1%s '
                 'LIMIT $3) x', tbl, CASE WHEN recheck THEN ' AND tsv @@ $2' ELSE '' END)
    INTO found USING keys, q, cap;
  RETURN found;
END $$
"""

NEWEST = """
CREATE OR REPLACE FUNCTION search_newest(tbl regclass, q tsquery, keys tsquery,
                                         recheck boolean, n integer)
RETURNS SETOF integer LANGUAGE plpgsql STABLE AS $$
DECLARE
  ids integer[];
  lo integer;
  hi integer;
  win integer := 3 * n;
  span bigint;
BEGIN
  EXECUTE format('SELECT min(rowid), max(rowid) FROM %s', tbl) INTO lo, hi;
  IF hi IS NULL OR n <= 0 THEN
    RETURN;
  END IF;
  EXECUTE format('SELECT array(SELECT rowid FROM (SELECT rowid, tsv FROM %s '
                 'ORDER BY rowid DESC LIMIT $1) x WHERE tsv @@ $2 LIMIT $3)', tbl)
    INTO ids USING win, q, n;
  IF cardinality(ids) >= n OR hi - lo < win THEN
    RETURN QUERY SELECT unnest(ids);
    RETURN;
  END IF;
  IF cardinality(ids) > 0 THEN
    span := ceil(win::numeric * n / cardinality(ids) * 1.5);
    IF hi - span > lo THEN
      ids := search_keyed(tbl, q, keys, recheck, (hi - span)::integer, n);
      IF cardinality(ids) >= n THEN
        RETURN QUERY SELECT unnest(ids);
        RETURN;
      END IF;
    END IF;
  END IF;
  -- Into a variable first: in a query the planner ran it once more to estimate it.
  ids := search_keyed(tbl, q, keys, recheck, lo - 1, n);
  RETURN QUERY SELECT unnest(ids);
END $$
"""


TABLES = ("question_search", "library_search", "decision_search")
# ANALYZE lists the keys in at least ~0.05 % of rows (17,500 keys at 100,000 questions; the
# default listed 1,000, down to 3.5 %): bm25 reads a term's document frequency there, and
# counts only rarer ones (a few dozen rows). ANALYZE of 100,000 questions takes ~18 s.
KEY_STATISTICS = 2000

# Every occurrence after a word's first as its own lexeme `word~k` (from the vector's positions).
TAGGED = ("(SELECT array_to_tsvector(coalesce(array_agg(CASE WHEN k = 1 THEN u.lexeme "
          "ELSE u.lexeme || '~' || k END), '{}')) FROM unnest(tsv) u, "
          "generate_series(1, greatest(cardinality(u.positions), 1)) k)")
# Back: one position per occurrence (their order is lost; what matched still matches).
UNTAGGED = ("(SELECT to_tsvector('simple', coalesce(string_agg(split_part(u.lexeme, '~', 1), "
            "' '), '')) FROM unnest(tsv) u)")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    op.execute("CREATE TABLE search_stats (name TEXT PRIMARY KEY, rows BIGINT NOT NULL, "
               "words BIGINT NOT NULL)")
    for table in TABLES:
        op.execute(f"DROP INDEX ix_{table}_tsv")
        op.execute(f"UPDATE {table} SET tsv = {TAGGED}")
        op.execute(f"CREATE INDEX ix_{table}_tsv ON {table} USING gin (search_keys(tsv))")
        op.execute(f"ALTER INDEX ix_{table}_tsv ALTER COLUMN 1 SET STATISTICS {KEY_STATISTICS}")
        op.execute(f"INSERT INTO search_stats (name, rows, words) SELECT '{table}', count(*), "
                   f"coalesce(sum(length(tsv)), 0) FROM {table}")
        op.execute(f"ANALYZE {table}")
    op.execute(KEYED)
    op.execute(COUNT)
    op.execute(NEWEST)


def downgrade() -> None:
    if not _postgresql():
        return
    for table in TABLES:
        op.execute(f"DROP INDEX ix_{table}_tsv")
        op.execute(f"UPDATE {table} SET tsv = {UNTAGGED}")
        op.execute(f"CREATE INDEX ix_{table}_tsv ON {table} USING gin (search_keys(tsv))")
    op.execute("DROP TABLE search_stats")
    op.execute("DROP FUNCTION IF EXISTS search_newest(regclass, tsquery, tsquery, boolean, "
               "integer)")
    op.execute("DROP FUNCTION IF EXISTS search_count(regclass, tsquery, tsquery, boolean, "
               "integer)")
    op.execute("DROP FUNCTION IF EXISTS search_keyed(regclass, tsquery, tsquery, boolean, "
               "integer, integer)")
