"""library: PostgreSQL plans the search functions' statements without reading the words' statistics

Revision ID: 0021_library
Revises: 0020_library
Create Date: 2026-11-30 15:30:00

`search_keyed`, `search_count` (0019) and the window of `search_newest` (0020) run their
statements through EXECUTE, planned at every call. The planner estimated `search_keys(tsv) @@
keys` from the GIN index's statistics: 17,500 keys per index (`SET STATISTICS 2000`, kept for
bm25's document frequencies), read and searched at each planning, ~0.7-1.9 ms of planning for a
~1-2 ms statement. The words are now an InitPlan (`(SELECT $1)`), which the estimator does not
read: planning ~0.1 ms, the same plan (the GIN index and the primary key's span, BitmapAnd).
Measured on the benchmark's queries at 100,000 pairs (EXPLAIN ANALYZE of `search_newest`
alone, 360 calls, the same rows returned, two runs): sum 671 -> 595 ms and 596 -> 518 ms.
Downgrade keeps these definitions: they return what 0019's and 0020's did.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = '0021_library'
down_revision: str | None = '0020_library'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED = """
CREATE OR REPLACE FUNCTION search_keyed(tbl regclass, q tsquery, keys tsquery,
                                        recheck boolean, above integer, n integer)
RETURNS integer[] LANGUAGE plpgsql STABLE
SET enable_indexscan = off SET enable_seqscan = off AS $$
DECLARE
  ids integer[];
BEGIN
  EXECUTE format('SELECT array(SELECT rowid FROM %s WHERE search_keys(tsv) @@ (SELECT $1) '
                 'AND rowid > $2%s ORDER BY rowid DESC LIMIT $3)', tbl,
                 CASE WHEN recheck THEN ' AND tsv @@ (SELECT $4)' ELSE '' END)
    INTO ids USING keys, above, n, q;
  RETURN ids;
END $$
"""

COUNT = """
CREATE OR REPLACE FUNCTION search_count(tbl regclass, q tsquery, keys tsquery,
                                        recheck boolean, cap integer)
RETURNS bigint LANGUAGE plpgsql STABLE
SET enable_indexscan = off SET enable_seqscan = off AS $$
DECLARE
  found bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s WHERE search_keys(tsv) @@ '
                 '(SELECT $1)%s LIMIT $3) x', tbl,
                 CASE WHEN recheck THEN ' AND tsv @@ (SELECT $2)' ELSE '' END)
    INTO found USING keys, q, cap;
  RETURN found;
END $$
"""


def _newest() -> str:
    """0020's `search_newest`, its window's match an InitPlan too."""
    spec = importlib.util.spec_from_file_location("_0020", Path(__file__).with_name(
        "0020_library.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = str(module.NEWEST)
    window = "x WHERE tsv @@ $2 LIMIT $3)"
    assert window in before
    return before.replace(window, "x WHERE tsv @@ (SELECT $2) LIMIT $3)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(KEYED)
    op.execute(COUNT)
    op.execute(_newest())


def downgrade() -> None:
    return None
