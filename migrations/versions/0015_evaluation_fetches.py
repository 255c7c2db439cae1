"""evaluation fetches: host evaluations due to be mirrored

The drain records a due row per (tenant, host evaluation, version) instead of calling the host
inside its transaction; a job does the host GETs outside any transaction and applies them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:30:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types
from sqlalchemy.dialects import postgresql


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'evaluation_fetches',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('host_evaluation_id', sa.String(length=64), nullable=False),
        sa.Column('version_key', sa.String(length=80), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=2000), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_evaluation_fetches_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_fetches')),
        sa.UniqueConstraint('tenant_id', 'host_evaluation_id', 'version_key',
                            name=op.f('uq_evaluation_fetches_tenant_id_host_evaluation_id_version_key')),
    )
    op.create_index('ix_evaluation_fetches_due', 'evaluation_fetches',
                    ['tenant_id', 'status', 'next_attempt_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_evaluation_fetches_due', table_name='evaluation_fetches')
    op.drop_table('evaluation_fetches')
