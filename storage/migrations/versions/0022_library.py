"""library: search on PostgreSQL needs no planner settings of its own, so its reads need no transaction

Revision ID: 0022_library
Revises: 0021_library
Create Date: 2026-11-30 15:45:00

A search statement joins the newest matches (`search_newest`, at most 300 or 1,000 rows) to
their questions, library items or broadcasts by primary key. The planner took a set-returning
function for 1,000 rows and, for the library's items of one kind, hashed the whole table: so each
search set `enable_hashjoin`, `enable_mergejoin`, `jit` and parallel workers off for its
transaction (BEGIN, one more statement, ROLLBACK: three round trips of ~6). Told 100 rows, the
planner fetches by primary key for every statement the benchmark makes (240 statements of
`/search`, with a group or a kind, the questions search, both similar lookups: EXPLAIN shows no
hash, merge join, sequential or parallel scan; with 1,000 rows and no settings 80 of them had a
hash join), so searches now read without a transaction (`Database.read()`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0022_library'
down_revision: str | None = '0021_library'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEWEST = "search_newest(regclass, tsquery, tsquery, boolean, integer, float8)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER FUNCTION {NEWEST} ROWS 100")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER FUNCTION {NEWEST} ROWS 1000")
