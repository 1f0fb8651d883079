"""pruning: what remains of a broadcast's pruned outbox rows (counts by status and place)

Revision ID: 0016_pruning
Revises: 0009_member_fixes
Create Date: 2026-11-30 04:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_pruning'
down_revision: str | None = '0009_member_fixes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcast_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('broadcast_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_outcome_broadcast_id'), ['broadcast_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('broadcast_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_outcome_broadcast_id'))
    op.drop_table('broadcast_outcome')
