"""peer snapshots: the worker's precomputed per-agent sums, and the facts watermark index

``peer_snapshots`` holds one serialized snapshot per (tenant, interval) so no request sums a
tenant's rollups; ``ix_interaction_facts_tenant_updated`` makes the job's freshness check
(max updated_at of a tenant's facts) an index lookup.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'peer_snapshots',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('start_day', sa.Date(), nullable=False),
        sa.Column('end_day', sa.Date(), nullable=False),
        sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
        sa.Column('layout', sa.Integer(), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'start_day', 'end_day'),
    )
    op.create_index('ix_interaction_facts_tenant_updated', 'interaction_facts',
                    ['tenant_id', 'updated_at'])


def downgrade() -> None:
    op.drop_index('ix_interaction_facts_tenant_updated', table_name='interaction_facts')
    op.drop_table('peer_snapshots')
