"""year_indexes: the indexes a year of data needs for the screens members open

Revision ID: 0019_year_indexes
Revises: 0018_search_speed
Create Date: 2026-11-30 12:35:00

Measured on a year of data (scripts/year_data.py: 2,000 national issues): /issues lists the
issues most municipalities share first. Without an index on that order both databases read and
sort every issue for each page (SQLite 3.6 ms, PostgreSQL 2.7 ms); with it they read the page's
rows in order and stop (SQLite 0.04 ms).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0019_year_indexes'
down_revision: str | None = '0018_search_speed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_national_issue_ranking", "national_issue",
                    ["municipalities_count", "members_count", "id"])


def downgrade() -> None:
    op.drop_index("ix_national_issue_ranking", table_name="national_issue")
