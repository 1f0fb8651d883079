"""update_log: each update as it arrived, so one a crash cut short is handled again on start

Revision ID: 0017_update_log
Revises: 0017_events
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0017_update_log'
down_revision: str | None = '0017_events'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('update_log',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('update_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_log_handled_at'), ['handled_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('update_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_log_handled_at'))
    op.drop_table('update_log')
