"""token revocation and the keyed audit chain

Bearer tokens become revocable: one row per revoked token id (``jti``) and a per-person "not
before". Audit rows gain ``scheme`` (1 = the unkeyed SHA-256 rows written so far, which keep
verifying; 2 = HMAC-SHA256) and ``key_id`` (which data key the HMAC key came from), and the
chain's head is checkpointed in its own table under an HMAC.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:40:00
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

UTC = extension.platform.models._types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tokens_not_before', UTC, nullable=True))
    op.create_table(
        'revoked_tokens',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('revoked_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE',
                                name=op.f('fk_revoked_tokens_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'jti', name=op.f('pk_revoked_tokens')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheme', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.Column('head_id', sa.Integer(), nullable=False),
        sa.Column('head_hash', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.Column('mac', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE',
                                name=op.f('fk_audit_checkpoints_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    )
    op.create_index('ix_audit_checkpoints_tenant_id', 'audit_checkpoints', ['tenant_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_audit_checkpoints_tenant_id', table_name='audit_checkpoints')
    op.drop_table('audit_checkpoints')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('scheme')
    op.drop_table('revoked_tokens')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('tokens_not_before')
