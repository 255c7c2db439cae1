"""calibration sessions, sampling plans and runs, interaction text analytics

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 17:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql
import extension.platform.models._types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calibration_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('form_id', sa.String(length=36), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('conversation_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('evaluator_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('expert_id', sa.String(length=64), nullable=True),
    sa.Column('drift_threshold', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_calibration_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_sessions'))
    )
    op.create_index('ix_calibration_sessions_tenant_status', 'calibration_sessions', ['tenant_id', 'status', 'created_at'], unique=False)
    op.create_table('interaction_text_analytics',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('customer_sentiment', sa.Float(), nullable=True),
    sa.Column('agent_sentiment', sa.Float(), nullable=True),
    sa.Column('escalation', sa.Boolean(), nullable=False),
    sa.Column('compliance_miss', sa.Boolean(), nullable=False),
    sa.Column('prohibited_count', sa.Integer(), nullable=False),
    sa.Column('silence_ratio', sa.Float(), nullable=True),
    sa.Column('overtalk_ratio', sa.Float(), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('analysed_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_interaction_text_analytics_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'conversation_id', name=op.f('pk_interaction_text_analytics'))
    )
    op.create_table('sampling_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sampling_plans_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_plans'))
    )
    op.create_index('ix_sampling_plans_tenant_active', 'sampling_plans', ['tenant_id', 'active'], unique=False)
    op.create_table('calibration_scores',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('evaluator_id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('na_groups', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('total_score', sa.Float(), nullable=True),
    sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['calibration_sessions.id'], name=op.f('fk_calibration_scores_session_id_calibration_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_calibration_scores_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_scores')),
    sa.UniqueConstraint('session_id', 'evaluator_id', 'conversation_id', name='uq_calibration_scores_session_evaluator_conversation')
    )
    op.create_index('ix_calibration_scores_tenant_session', 'calibration_scores', ['tenant_id', 'session_id'], unique=False)
    op.create_table('sampling_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('plan_document', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('run_key', sa.String(length=300), nullable=False),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('period_start', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seed', sa.String(length=200), nullable=False),
    sa.Column('eligible', sa.Integer(), nullable=False),
    sa.Column('budget', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('fairness', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('form_id', sa.String(length=36), nullable=True),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plans.id'], name=op.f('fk_sampling_runs_plan_id_sampling_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sampling_runs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_runs')),
    sa.UniqueConstraint('tenant_id', 'run_key', name='uq_sampling_runs_tenant_run_key')
    )
    op.create_index('ix_sampling_runs_tenant_plan', 'sampling_runs', ['tenant_id', 'plan_id', 'created_at'], unique=False)
    op.create_table('sampling_picks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('evaluation_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sampling_runs.id'], name=op.f('fk_sampling_picks_run_id_sampling_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sampling_picks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_picks')),
    sa.UniqueConstraint('run_id', 'conversation_id', name='uq_sampling_picks_run_conversation')
    )
    op.create_index('ix_sampling_picks_tenant_conversation', 'sampling_picks', ['tenant_id', 'conversation_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sampling_picks_tenant_conversation', table_name='sampling_picks')
    op.drop_table('sampling_picks')
    op.drop_index('ix_sampling_runs_tenant_plan', table_name='sampling_runs')
    op.drop_table('sampling_runs')
    op.drop_index('ix_calibration_scores_tenant_session', table_name='calibration_scores')
    op.drop_table('calibration_scores')
    op.drop_index('ix_sampling_plans_tenant_active', table_name='sampling_plans')
    op.drop_table('sampling_plans')
    op.drop_table('interaction_text_analytics')
    op.drop_index('ix_calibration_sessions_tenant_status', table_name='calibration_sessions')
    op.drop_table('calibration_sessions')
