"""alert deliveries, outcome models

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 17:40:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table('outcome_models',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('fitted_at', UTC, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('brier', sa.Float(), nullable=True),
    sa.Column('brier_base', sa.Float(), nullable=True),
    sa.Column('params', JSON, nullable=False),
    sa.Column('report', JSON, nullable=False),
    _tenant_fk('outcome_models'),
    sa.PrimaryKeyConstraint('tenant_id', 'target', name=op.f('pk_outcome_models'))
    )
    op.create_table('alert_settings',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('rules', JSON, nullable=False),
    sa.Column('cooldown_hours', sa.Integer(), nullable=False),
    sa.Column('email_enabled', sa.Boolean(), nullable=False),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('webhook_secret_enc', sa.String(length=2000), nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    _tenant_fk('alert_settings'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_alert_settings'))
    )
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('alert_key', sa.String(length=300), nullable=False),
    sa.Column('raise_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('recipient', sa.String(length=2000), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    _tenant_fk('alert_deliveries'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('tenant_id', 'alert_key', 'raise_id', 'channel',
                        name='uq_alert_deliveries_raise_channel'),
    sa.UniqueConstraint('idempotency_key', name='uq_alert_deliveries_idempotency_key')
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_alert_deliveries_status', ['status', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_deliveries_status')
    op.drop_table('alert_deliveries')
    op.drop_table('alert_settings')
    op.drop_table('outcome_models')
