"""forms, form versions, evaluations, answers, disputes, evaluator workload

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import extension.platform.models._types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluator_caps',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('evaluator_id', sa.String(length=64), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=False),
    sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evaluator_caps_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'evaluator_id', name=op.f('pk_evaluator_caps'))
    )
    op.create_table('quality_forms',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('interaction_type', sa.String(length=32), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('customer_segment', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('genesys_form_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_quality_forms_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_forms'))
    )
    with op.batch_alter_table('quality_forms', schema=None) as batch_op:
        batch_op.create_index('ix_quality_forms_tenant_name', ['tenant_id', 'name'], unique=False)

    op.create_table('quality_settings',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('dispute_window_days', sa.Integer(), nullable=False),
    sa.Column('max_disputes_per_evaluation', sa.Integer(), nullable=False),
    sa.Column('max_open_disputes_per_evaluation', sa.Integer(), nullable=False),
    sa.Column('default_daily_cap', sa.Integer(), nullable=False),
    sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_quality_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_quality_settings'))
    )
    op.create_table('evaluations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('evaluator_id', sa.String(length=64), nullable=False),
    sa.Column('form_id', sa.String(length=36), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('active_key', sa.String(length=120), nullable=True),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('na_groups', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('scoring', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('total_score', sa.Float(), nullable=True),
    sa.Column('reason', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('due_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('assigned_day', sa.String(length=10), nullable=False),
    sa.Column('started_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retracted_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retract_reason', sa.String(length=1000), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['quality_forms.id'], name=op.f('fk_evaluations_form_id_quality_forms')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evaluations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations')),
    sa.UniqueConstraint('tenant_id', 'active_key', name='uq_evaluations_active')
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_evaluations_tenant_agent_status', ['tenant_id', 'agent_id', 'status'], unique=False)
        batch_op.create_index('ix_evaluations_tenant_conversation', ['tenant_id', 'conversation_id'], unique=False)
        batch_op.create_index('ix_evaluations_tenant_evaluator_status', ['tenant_id', 'evaluator_id', 'status'], unique=False)

    op.create_table('quality_form_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('form_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['quality_forms.id'], name=op.f('fk_quality_form_versions_form_id_quality_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_quality_form_versions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_form_versions')),
    sa.UniqueConstraint('tenant_id', 'form_id', 'version', name='uq_quality_form_versions_version')
    )
    op.create_table('evaluation_disputes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('evaluation_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('resolver_id', sa.String(length=64), nullable=True),
    sa.Column('resolution_note', sa.String(length=2000), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('score_before', sa.Float(), nullable=True),
    sa.Column('score_after', sa.Float(), nullable=True),
    sa.Column('created_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], name=op.f('fk_evaluation_disputes_evaluation_id_evaluations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evaluation_disputes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_disputes'))
    )
    with op.batch_alter_table('evaluation_disputes', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_disputes_tenant_evaluation', ['tenant_id', 'evaluation_id'], unique=False)
        batch_op.create_index('ix_evaluation_disputes_tenant_status', ['tenant_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_table('evaluation_disputes')
    op.drop_table('evaluations')
    op.drop_table('quality_form_versions')
    op.drop_table('quality_forms')
    op.drop_table('evaluator_caps')
    op.drop_table('quality_settings')
