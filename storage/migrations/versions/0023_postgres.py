"""postgres: SQLite's search indexes hold word prefixes of 3 to 12 letters, not 3 to 6

Revision ID: 0023_postgres
Revises: 0022_library
Create Date: 2026-11-30 21:40:00

FTS5 answers a prefix query (`"трансферт"*`) from a prefix index only when one of the prefix
index's lengths is the stem's; otherwise it reads every indexed word starting with the stem and
merges all their occurrence lists, once to match and once more for bm25's document frequency.
With prefix indexes of 3-6 letters every stem of 7 letters or more (трансферт, муниципал,
прокуратур, постановле: a third of the benchmark's stems) paid that. Measured on the benchmark's
`question_search` at 100,000 pairs (the newest 300 matches with their bm25, median of 10):
"трансферт"* 5.6 -> 1.1 ms; "депутат"* AND "трансферт"* AND "мыйз"* 10.8 -> 2.3 ms; the same
rows and the same ranks. The index grows by a fifth (106 -> 126 MB there). A stem longer than
12 letters still merges (rare). PostgreSQL is unchanged (its keys are a word's first 3-6 letters,
a longer stem rechecked on the row's words).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0023_postgres'
down_revision: str | None = '0022_library'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "question_search": ("question", "answer"),
    "library_search": ("title", "body"),
    "decision_search": ("title", "body"),
}
PREFIXES = "3 4 5 6 7 8 9 10 11 12"
BEFORE = "3 4 5 6"


def _rebuild(prefixes: str) -> None:
    """Each FTS5 table made again with these prefix indexes, its rows copied over."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, (a, b) in TABLES.items():
        op.execute(f"CREATE VIRTUAL TABLE {table}_new USING fts5({a}, {b}, "
                   f"tokenize = 'unicode61 remove_diacritics 0', prefix = '{prefixes}')")
        op.execute(f"INSERT INTO {table}_new (rowid, {a}, {b}) "
                   f"SELECT rowid, {a}, {b} FROM {table}")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
        op.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


def upgrade() -> None:
    _rebuild(PREFIXES)


def downgrade() -> None:
    _rebuild(BEFORE)
