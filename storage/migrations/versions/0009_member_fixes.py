"""member fixes: a broadcast's title in Kyrgyz and English (the Russian stays in `title`)

Revision ID: 0009_member_fixes
Revises: 0014_replicas
Create Date: 2026-11-30 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009_member_fixes'
down_revision: str | None = '0014_replicas'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_ky', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('title_en', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_column('title_en')
        batch_op.drop_column('title_ky')
