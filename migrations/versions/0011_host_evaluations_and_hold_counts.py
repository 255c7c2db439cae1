"""host evaluations and hold counts

Evaluations mirrored from the host (Genesys) keep a link to the host evaluation, the host's
version / change time (to ignore duplicate and out-of-order notifications), the host status and
the host's own total score next to ours.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 20:40:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)
COLUMNS = ('host_evaluation_id', 'host_status', 'host_version', 'host_changed_at', 'host_total_score')


def upgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_evaluation_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('host_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('host_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host_changed_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('host_total_score', sa.Float(), nullable=True))
        batch_op.create_unique_constraint('uq_evaluations_host', ['tenant_id', 'host_evaluation_id'])


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_evaluations_host', type_='unique')
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
