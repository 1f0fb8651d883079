"""People, places and personal data: the member directory and its messages, one name per
municipality (typed names become pending municipalities), account deletion, per-community forums

Revision ID: 0010_people
Revises: 0013_events
Create Date: 2026-11-30 02:09:51.812468
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0010_people'
down_revision: str | None = '0013_events'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('direct_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('attachment', sa.JSON(), nullable=False),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['reply_to_id'], ['direct_message.id'], ),
    sa.ForeignKeyConstraint(['sender_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('direct_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_direct_message_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index('ix_direct_message_sender', ['sender_id', 'created_at'], unique=False)

    op.create_table('member_block',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blocked_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('member_id', 'blocked_id')
    )
    with op.batch_alter_table('member_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_block_blocked_id'), ['blocked_id'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', storage.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('member_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_hidden', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('show_username', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('show_phone', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='confirmed'))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_municipality_merged_into', 'municipality', ['merged_into_id'], ['id'])

    with op.batch_alter_table('topic_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forum_chat_id', sa.BigInteger(), nullable=True))

    _typed_names_become_pending_municipalities()
    # A community's group may have had a thread in the shared forum, where everyone reads it:
    # forget those threads (Birge makes one in the community's own forum chat, if it has one).
    op.execute("UPDATE topic_group SET forum_topic_id = NULL WHERE community_id IS NOT NULL")


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-zа-яёңөү]+", "-", name.casefold()).strip("-")[:40] or "place"


def _typed_names_become_pending_municipalities() -> None:
    """Every municipality typed by hand (per district and spelling) becomes a pending
    municipality; members, issues and co-signatures point at it, so staff can merge it."""
    conn = op.get_bind()
    made: dict[tuple[int, str], int] = {}
    for table in ('member', 'national_issue', 'issue_cosign'):
        rows = conn.execute(sa.text(
            f"SELECT id, district_id, municipality_other FROM {table} "
            "WHERE municipality_other IS NOT NULL AND district_id IS NOT NULL "
            "AND municipality_id IS NULL")).all()
        for row_id, district_id, other in rows:
            name = " ".join(str(other).split())
            key = (district_id, name.casefold())
            if key not in made:
                code = f"typed-{_slug(name)}"
                taken = conn.execute(sa.text(
                    "SELECT count(*) FROM municipality WHERE district_id = :d AND code LIKE :c"),
                    {"d": district_id, "c": code + "%"}).scalar() or 0
                if taken:
                    code = f"{code}-{taken + 1}"
                conn.execute(sa.text(
                    "INSERT INTO municipality (code, district_id, kind, active, status, "
                    "name_ky, name_ru, name_en) VALUES (:c, :d, 'aiyl_aimak', :a, 'pending', "
                    ":n, :n, :n)"), {"c": code, "d": district_id, "n": name, "a": False})
                made[key] = conn.execute(sa.text(
                    "SELECT id FROM municipality WHERE district_id = :d AND code = :c"),
                    {"d": district_id, "c": code}).scalar_one()
            conn.execute(sa.text(
                f"UPDATE {table} SET municipality_id = :m, municipality_other = NULL "
                "WHERE id = :i"), {"m": made[key], "i": row_id})


def downgrade() -> None:
    with op.batch_alter_table('topic_group', schema=None) as batch_op:
        batch_op.drop_column('forum_chat_id')

    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_constraint('fk_municipality_merged_into', type_='foreignkey')
        batch_op.drop_column('created_at')
        batch_op.drop_column('proposed_by_id')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('status')

    with op.batch_alter_table('member_settings', schema=None) as batch_op:
        batch_op.drop_column('show_phone')
        batch_op.drop_column('show_username')
        batch_op.drop_column('directory_hidden')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('phone')

    with op.batch_alter_table('member_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_block_blocked_id'))

    op.drop_table('member_block')
    with op.batch_alter_table('direct_message', schema=None) as batch_op:
        batch_op.drop_index('ix_direct_message_sender')
        batch_op.drop_index(batch_op.f('ix_direct_message_recipient_id'))

    op.drop_table('direct_message')
