"""directory groups and queues

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 20:40:00

The host's groups and routing queues with their memberships (services.directory), and the
handling agent's hold-segment count on interactions and facts (``n_hold``, NULL = unknown).
"""
from alembic import op
import sqlalchemy as sa
import extension.platform.models._types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _host_table(name: str, *columns: sa.Column) -> None:
    op.create_table(name,
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    *columns,
    sa.Column('member_count', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('synced_at', extension.platform.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{name}_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{name}'))
    )


def _member_table(name: str, owner: str, key: str, *columns: sa.Column) -> None:
    op.create_table(name,
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column(key, sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=False),
    *columns,
    sa.ForeignKeyConstraint(['tenant_id', key], [f'{owner}.tenant_id', f'{owner}.id'], name=op.f(f'fk_{name}_tenant_id_{owner}'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', key, 'person_id', name=op.f(f'pk_{name}'))
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(f'ix_{name}_tenant_person', ['tenant_id', 'person_id'], unique=False)


def upgrade() -> None:
    _host_table('directory_groups',
                sa.Column('type', sa.String(length=16), nullable=True),
                sa.Column('visibility', sa.String(length=16), nullable=True))
    _host_table('directory_queues',
                sa.Column('division_id', sa.String(length=64), nullable=True),
                sa.Column('division_name', sa.String(length=200), nullable=True))
    _member_table('group_members', 'directory_groups', 'group_id')
    _member_table('queue_members', 'directory_queues', 'queue_id',
                  sa.Column('joined', sa.Boolean(), nullable=True))
    for table in ('interaction_facts', 'interactions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('n_hold', sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ('interactions', 'interaction_facts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('n_hold')
    for name in ('queue_members', 'group_members'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_tenant_person')
        op.drop_table(name)
    op.drop_table('directory_queues')
    op.drop_table('directory_groups')
