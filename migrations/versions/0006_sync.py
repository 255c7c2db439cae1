"""history sync cursors and runs, facts customer id for FCR

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import extension.platform.models._types  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sync_cursors',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('stream', sa.String(length=32), nullable=False),
        sa.Column('synced_from', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('synced_until', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('job_id', sa.String(length=100), nullable=True),
        sa.Column('job_interval', sa.String(length=100), nullable=True),
        sa.Column('job_cursor', sa.String(length=2000), nullable=True),
        sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'stream'),
    )
    op.create_table(
        'analytics_settings',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('fcr_window_days', sa.Integer(), nullable=False),
        sa.Column('customer_secret_enc', sa.String(length=500), nullable=True),
        sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id'),
    )
    op.add_column('interaction_facts', sa.Column('customer_key', sa.String(length=64), nullable=True))
    op.create_index('ix_interaction_facts_tenant_customer', 'interaction_facts',
                    ['tenant_id', 'customer_key', 'ended_at'], unique=False)
    op.create_index('ix_interaction_facts_tenant_fcr_open', 'interaction_facts',
                    ['tenant_id', 'fcr', 'ended_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_interaction_facts_tenant_fcr_open', table_name='interaction_facts')
    op.drop_index('ix_interaction_facts_tenant_customer', table_name='interaction_facts')
    with op.batch_alter_table('interaction_facts') as batch:
        batch.drop_column('customer_key')
    op.drop_table('analytics_settings')
    op.drop_table('sync_cursors')
