"""effect retries and calendar check

Host effects (coaching appointments, recognitions) keep retrying through long outages: a due
time for the next attempt. Appointments also record whether the supervisor's calendar was read
(False = booked with the calendar not checked) and how many transient calendar failures they met.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:45:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('calendar_checked', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('calendar_failures', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('recognitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recognitions', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('calendar_failures')
        batch_op.drop_column('calendar_checked')
        batch_op.drop_column('next_attempt_at')
