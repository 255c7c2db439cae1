"""role mapping: the tenant's host-to-Coachwire role rules and where a person's role came from

``tenants.role_mapping`` holds the admin's rules (null: the defaults). ``people.role_source`` is
``mapped`` (the rules decide at sign-in and people sync) or ``override`` (an admin set it; the
rules leave it alone). People who already hold a role the old sync kept (admin, QA analyst,
manager: granted inside Coachwire) become overrides, so nothing they hold today changes.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 19:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column(
            'role_mapping',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=True))
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('role_source', sa.String(length=16), nullable=False,
                                   server_default='mapped'))
    op.execute("UPDATE people SET role_source = 'override' "
               "WHERE role IN ('admin', 'qa_analyst', 'manager')")


def downgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.drop_column('role_source')
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('role_mapping')
