"""events: per-district limits that differ by district, library items as materials, and the
organiser's live participant list

Revision ID: 0017_events
Revises: 0015_vertical_loop
Create Date: 2026-11-30 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0017_events'
down_revision: str | None = '0015_vertical_loop'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_limits', sa.JSON(), nullable=False,
                                      server_default='{}'))
    with op.batch_alter_table('event_material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('library_item_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_event_material_library_item_id', 'library_item',
                                    ['library_item_id'], ['id'])
    op.create_table('event_list_watch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('edit_due_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'member_id', name='uq_event_list_watch')
    )
    with op.batch_alter_table('event_list_watch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_list_watch_event_id'), ['event_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event_list_watch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_list_watch_event_id'))
    op.drop_table('event_list_watch')
    with op.batch_alter_table('event_material', schema=None) as batch_op:
        batch_op.drop_constraint('fk_event_material_library_item_id', type_='foreignkey')
        batch_op.drop_column('library_item_id')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('district_limits')
