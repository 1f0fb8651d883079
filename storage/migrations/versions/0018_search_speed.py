"""search_speed: PostgreSQL's search tables keep only the words' vector, indexed by word prefix

Revision ID: 0018_search_speed
Revises: 0018_state_body_names
Create Date: 2026-11-30 09:10:00

On PostgreSQL each search table (`question_search`, `library_search`, `decision_search`) was
(rowid, two texts, a generated tsvector) under a GIN index of the tsvector, matched with prefix
queries (`'stem':*`). Measured at 100,000 questions (`scripts/bench_search.py --database local`):
- the texts (a copy of what the question, item or broadcast holds) pushed the vector out of line
  (TOAST): every row a search looked at was fetched from a second table;
- a prefix query on GIN unions the posting lists of every word with that prefix (for "бюджет":*
  100,000 rows) before it intersects anything: 15-30 ms for two common stems.
Now a table is (rowid, tsv), the vector stored uncompressed in the row (up to a page: from 2 kB
a long item's or decision's vector went out of line, half of them), written by the backend
(`bot.services.search.PostgresBackend.put`: `to_tsvector('simple', first || ' ' || second)`, as
the generated column was), and its GIN index is on `search_keys(tsv)`: every word's prefixes of
3 to 6 letters (as FTS5's `prefix = '3 4 5 6'` on SQLite), so a stem's first 6 letters are one
exact key, and exact keys intersect without unioning anything. SQLite keeps FTS5.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018_search_speed'
down_revision: str | None = '0018_state_body_names'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"question_search": ("question", "answer"), "library_search": ("title", "body"),
          "decision_search": ("title", "body")}

# One function, only built-ins inside: an index expression is also evaluated where the search
# path is just pg_catalog (ANALYZE, a restore), where a call to another function of ours fails.
KEYS = """
CREATE OR REPLACE FUNCTION search_keys(v tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_to_tsvector(coalesce(array_agg(DISTINCT left(w, n)), '{}'))
  FROM unnest(tsvector_to_array(v)) AS w, generate_series(3, 6) AS n
  WHERE char_length(w) >= n $$
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    op.execute(KEYS)
    for table in TABLES:
        op.execute(f"CREATE TABLE {table}_new (rowid INTEGER NOT NULL, tsv tsvector NOT NULL) "
                   f"WITH (toast_tuple_target = 8160)")
        op.execute(f"ALTER TABLE {table}_new ALTER COLUMN tsv SET STORAGE EXTERNAL")
        op.execute(f"INSERT INTO {table}_new (rowid, tsv) SELECT rowid, tsv FROM {table} "
                   f"ORDER BY rowid")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (rowid)")
        op.execute(f"CREATE INDEX ix_{table}_tsv ON {table} USING gin (search_keys(tsv))")


def downgrade() -> None:
    """Back to (rowid, texts, generated tsv): the text is rebuilt from the vector's words in
    their order (what search matched on), so search keeps finding what it found."""
    if not _postgresql():
        return
    for table, (a, b) in TABLES.items():
        op.execute(f"CREATE TABLE {table}_old (rowid INTEGER PRIMARY KEY, {a} TEXT NOT NULL, "
                   f"{b} TEXT NOT NULL, tsv tsvector GENERATED ALWAYS AS "
                   f"(to_tsvector('simple'::regconfig, {a} || ' ' || {b})) STORED)")
        op.execute(f"INSERT INTO {table}_old (rowid, {a}, {b}) SELECT rowid, coalesce(("
                   f"SELECT string_agg(u.lexeme, ' ' ORDER BY p) FROM unnest(tsv) AS u, "
                   f"unnest(u.positions) AS p), ''), '' FROM {table}")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_old RENAME TO {table}")
        op.execute(f"ALTER INDEX {table}_old_pkey RENAME TO {table}_pkey")
        op.execute(f"CREATE INDEX ix_{table}_tsv ON {table} USING gin (tsv)")
    op.execute("DROP FUNCTION IF EXISTS search_keys(tsvector)")
