"""periodic leases and worker heartbeats

One lease row per periodic job (whoever moves its due time forward first runs the tick, on
SQLite and PostgreSQL alike) and one heartbeat row per job-taking process, which /readyz reads.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:40:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('periodic_leases',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('every_seconds', sa.Integer(), nullable=False),
    sa.Column('due_at', UTC, nullable=False),
    sa.Column('claimed_at', UTC, nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('last_started_at', UTC, nullable=True),
    sa.Column('last_finished_at', UTC, nullable=True),
    sa.Column('last_outcome', sa.String(length=12), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_leases'))
    )
    op.create_table('worker_heartbeats',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('started_at', UTC, nullable=False),
    sa.Column('seen_at', UTC, nullable=False),
    sa.Column('last_job_at', UTC, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_heartbeats'))
    )
    op.create_index('ix_worker_heartbeats_role_seen', 'worker_heartbeats', ['role', 'seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_worker_heartbeats_role_seen', table_name='worker_heartbeats')
    op.drop_table('worker_heartbeats')
    op.drop_table('periodic_leases')
