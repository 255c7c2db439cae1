"""Alembic: one head; upgrade -> downgrade -> upgrade is clean on a scratch database of each
engine; the migrated schema is exactly what the models declare."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from extension import load_models
from extension.platform.db import Base
from extension.platform.migrate import alembic_config, downgrade, upgrade
from tests.conftest import _pg_admin_url, _with_db

load_models()  # registers every table on Base.metadata
BASE_DB_URL = os.environ.get("DATABASE_URL", "")
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not BASE_DB_URL.startswith("postgresql"), reason="DATABASE_URL is not PostgreSQL"))]


@pytest.fixture(params=ENGINES)
def scratch_url(request, tmp_path):
    """An empty database nobody else uses: a SQLite file, or a PostgreSQL database we drop."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    import psycopg

    name = f"coachwire_migrate_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_url(BASE_DB_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(BASE_DB_URL, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def test_migrations_have_a_single_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"
    # Every revision hangs off one chain from base to that head.
    assert len(list(script.walk_revisions())) == len(list(script.iterate_revisions(heads[0], "base")))


def test_upgrade_downgrade_upgrade_round_trip(scratch_url):
    head = ScriptDirectory.from_config(alembic_config(scratch_url)).get_current_head()
    model_tables = set(Base.metadata.tables)

    upgrade(scratch_url)
    assert _current_revision(scratch_url) == head
    assert model_tables <= _tables(scratch_url)

    downgrade(scratch_url, "base")
    assert _current_revision(scratch_url) is None
    assert _tables(scratch_url) - {"alembic_version"} == set()

    upgrade(scratch_url)
    assert _current_revision(scratch_url) == head
    assert _tables(scratch_url) == model_tables | {"alembic_version"}


def test_migrated_schema_matches_the_models(scratch_url):
    upgrade(scratch_url)
    differences = _schema_differences(scratch_url)
    assert differences == [], "models and migrations disagree; autogenerate a revision:\n" + \
        "\n".join(map(str, differences))


def test_schema_comparison_notices_a_model_the_migrations_lack(scratch_url):
    """The comparison above can fail: a table missing from the database is reported."""
    upgrade(scratch_url)
    downgrade(scratch_url, "base")
    differences = _schema_differences(scratch_url)
    assert {diff[1].name for diff in differences if diff[0] == "add_table"} == set(Base.metadata.tables)


def test_roles_granted_before_the_role_mapping_become_overrides(scratch_url):
    """0018: admins, QA analysts and managers of before keep their role (override); the rest
    are mapped from the host."""
    from sqlalchemy import text

    upgrade(scratch_url, "0016")
    engine = create_engine(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO tenants (id, name, status, host_kind, api_base, login_base, "
                "console_origins, timezone, retention, created_at, updated_at) VALUES ('t', 'T', "
                "'active', 'genesys', 'https://api.x', 'https://login.x', '[]', 'UTC', '{}', "
                ":now, :now)"), {"now": "2026-12-01 00:00:00+00:00"})
            for person, role in (("a", "agent"), ("s", "supervisor"), ("q", "qa_analyst"),
                                 ("m", "manager"), ("x", "admin")):
                conn.execute(text(
                    "INSERT INTO people (tenant_id, id, name, role, active, synced_at) VALUES "
                    "('t', :id, :id, :role, true, :now)"),
                    {"id": person, "role": role, "now": "2026-12-01 00:00:00+00:00"})
        upgrade(scratch_url)
        with engine.connect() as conn:
            sources = dict(conn.execute(text("SELECT id, role_source FROM people")).all())
            mapping = conn.execute(text("SELECT role_mapping FROM tenants")).scalar()
    finally:
        engine.dispose()
    assert sources == {"a": "mapped", "s": "mapped", "q": "override", "m": "override",
                       "x": "override"}
    assert mapping is None
