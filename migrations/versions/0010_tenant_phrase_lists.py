"""tenant phrase lists

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 20:40:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types
from sqlalchemy.dialects import postgresql


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table('tenant_phrase_lists',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('rules', JSON, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    _tenant_fk('tenant_phrase_lists'),
    sa.PrimaryKeyConstraint('tenant_id', 'kind', name=op.f('pk_tenant_phrase_lists'))
    )
    op.create_table('tenant_sta_status',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('unavailable_until', UTC, nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('recorded_at', UTC, nullable=False),
    _tenant_fk('tenant_sta_status'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenant_sta_status'))
    )
    op.create_table('sta_transcript_fetches',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('communication_ids', JSON, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', UTC, nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    _tenant_fk('sta_transcript_fetches'),
    sa.PrimaryKeyConstraint('tenant_id', 'conversation_id', name=op.f('pk_sta_transcript_fetches'))
    )
    op.create_index('ix_sta_transcript_fetches_status_due', 'sta_transcript_fetches', ['status', 'due_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_sta_transcript_fetches_status_due', table_name='sta_transcript_fetches')
    op.drop_table('sta_transcript_fetches')
    op.drop_table('tenant_sta_status')
    op.drop_table('tenant_phrase_lists')
