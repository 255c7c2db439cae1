"""sign-on leftovers: popup handover, host-signed JWT sign-on, how a session was made

``sso_handovers``: a sign-in run in a popup (``gcUsePopupAuth``) handed back to the frame that
asked for it (the popup's cookies are not the frame's partitioned ones). ``sso_states``
names the handover it ends in. ``sso_jwt_ids``: the ``jti`` of every host-signed token used
(replay protection). ``tenants.jwt_config_enc``: the tenant's JWT issuer settings, sealed.
``panel_sessions.via``: ``genesys`` (host token re-checked) or ``jwt``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column('jwt_config_enc', sa.String(length=4000), nullable=True))
    with op.batch_alter_table('sso_states') as batch:
        batch.add_column(sa.Column('handover_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('panel_sessions') as batch:
        batch.add_column(sa.Column('via', sa.String(length=16), nullable=False,
                                   server_default='genesys'))
    op.create_table(
        'sso_handovers',
        sa.Column('ticket_hash', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('frame_hash', sa.String(length=64), nullable=False),
        sa.Column('popup_hash', sa.String(length=64), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('next_path', sa.String(length=2000), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('popup_used_at', UTC, nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('session_enc', sa.String(length=1000), nullable=True),
        sa.Column('used_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_sso_handovers_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_hash', name=op.f('pk_sso_handovers')),
        sa.UniqueConstraint('popup_hash', name=op.f('uq_sso_handovers_popup_hash')),
    )
    op.create_index('ix_sso_handovers_expires_at', 'sso_handovers', ['expires_at'], unique=False)
    op.create_index(op.f('ix_sso_handovers_tenant_id'), 'sso_handovers', ['tenant_id'],
                    unique=False)
    op.create_table(
        'sso_jwt_ids',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('jti_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_sso_jwt_ids_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'jti_hash', name=op.f('pk_sso_jwt_ids')),
    )
    op.create_index('ix_sso_jwt_ids_expires_at', 'sso_jwt_ids', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sso_jwt_ids_expires_at', table_name='sso_jwt_ids')
    op.drop_table('sso_jwt_ids')
    op.drop_index(op.f('ix_sso_handovers_tenant_id'), table_name='sso_handovers')
    op.drop_index('ix_sso_handovers_expires_at', table_name='sso_handovers')
    op.drop_table('sso_handovers')
    with op.batch_alter_table('panel_sessions') as batch:
        batch.drop_column('via')
    with op.batch_alter_table('sso_states') as batch:
        batch.drop_column('handover_hash')
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('jwt_config_enc')
