"""privacy erasures: one row per erased subject (idempotent, resumable erasure)

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 18:45:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types
from sqlalchemy.dialects import postgresql


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'privacy_erasures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('subject_kind', sa.String(length=16), nullable=False),
        sa.Column('subject_ref', sa.String(length=100), nullable=False),
        sa.Column('pseudonym', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('steps', JSON, nullable=False),
        sa.Column('requested_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('finished_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_privacy_erasures_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_erasures')),
        sa.UniqueConstraint('tenant_id', 'subject_kind', 'subject_ref', name='uq_privacy_erasures_subject'),
    )


def downgrade() -> None:
    op.drop_table('privacy_erasures')
