"""panel sign-on: the tenant's SSO client, sign-in states and panel sessions

Authorization Code with PKCE inside the Genesys frame: a one-time state row per sign-in in
flight, a revocable server-side session per signed-in frame, and the tenant's person sign-on
OAuth client (a Genesys OAuth client has a single grant type).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:40:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column('sso_client_id', sa.String(length=200), nullable=True))
    op.create_table(
        'sso_states',
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('browser_hash', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=200), nullable=False),
        sa.Column('code_verifier_enc', sa.String(length=1000), nullable=False),
        sa.Column('next_path', sa.String(length=2000), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('used_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_sso_states_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('state_hash', name=op.f('pk_sso_states')),
    )
    op.create_index('ix_sso_states_expires_at', 'sso_states', ['expires_at'], unique=False)
    op.create_index(op.f('ix_sso_states_tenant_id'), 'sso_states', ['tenant_id'], unique=False)
    op.create_table(
        'panel_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('last_seen_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('host_token_enc', sa.String(length=4000), nullable=True),
        sa.Column('host_token_expires_at', UTC, nullable=True),
        sa.Column('host_checked_at', UTC, nullable=False),
        sa.Column('revoked_at', UTC, nullable=True),
        sa.Column('revoked_reason', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_panel_sessions_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_panel_sessions')),
    )
    op.create_index('ix_panel_sessions_tenant_person', 'panel_sessions',
                    ['tenant_id', 'person_id'], unique=False)
    op.create_index('ix_panel_sessions_expires_at', 'panel_sessions', ['expires_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_panel_sessions_expires_at', table_name='panel_sessions')
    op.drop_index('ix_panel_sessions_tenant_person', table_name='panel_sessions')
    op.drop_table('panel_sessions')
    op.drop_index(op.f('ix_sso_states_tenant_id'), table_name='sso_states')
    op.drop_index('ix_sso_states_expires_at', table_name='sso_states')
    op.drop_table('sso_states')
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('sso_client_id')
