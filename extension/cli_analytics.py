"""flask commands for analytics and API access: ``tokens``, ``analytics``, ``demo-data``.

Registered by extension.cli.register (tokens_cli, analytics_cli, demo_data_command).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from extension.auth.tokens import ROLES
from extension.db import get_db

tokens_cli = AppGroup("tokens", help="Mint API bearer tokens (local use and tests).")
analytics_cli = AppGroup("analytics", help="Analytics storage maintenance.")


@tokens_cli.command("issue")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--person", "person_id", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--ttl-minutes", default=60, show_default=True, type=click.IntRange(1, 60 * 24 * 30))
def issue_token(tenant_id, person_id, role, ttl_minutes):
    """Print a bearer token for PERSON of TENANT with ROLE (the person must exist to use it)."""
    from extension.auth import tokens

    click.echo(tokens.issue(current_app.config["SECRET_KEY"], tenant_id=tenant_id, person_id=person_id,
                            role=role, ttl=timedelta(minutes=ttl_minutes)))


@analytics_cli.command("rebuild-rollups")
@click.argument("tenant_id")
def rebuild_rollups(tenant_id):
    """Recompute a tenant's daily rollups from its facts (after a time-zone change, or to repair)."""
    from extension.services import analytics

    with get_db().session() as session:
        count = analytics.rebuild_rollups(session, tenant_id=tenant_id)
    click.echo(f"rebuilt rollups of {tenant_id} from {count} facts")


@click.command("demo-data")
@with_appcontext
@click.option("--tenant", "tenant_id", default="demo", show_default=True, help="An existing tenant")
@click.option("--agents", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(100, 100_000))
def demo_data_command(tenant_id, agents, days, seed, batch):
    """Generate people and interaction facts (with rollups) for a demo tenant; re-runs are no-ops."""
    from extension.services import analytics_demo

    with get_db().session() as session:
        _upsert_people(session, tenant_id, analytics_demo.people(agents))
    records = analytics_demo.interactions(agents=agents, days=days, seed=seed)
    total = 0
    while chunk := list(itertools.islice(records, batch)):
        total += _store(tenant_id, chunk)
        click.echo(f"\r{total} interactions", nl=False)
    click.echo(f"\n{total} interactions stored for {agents} agents over {days} days")


def _upsert_people(session, tenant_id: str, rows: list[dict]) -> None:
    from extension.models import Person, Tenant

    if session.get(Tenant, tenant_id) is None:
        raise click.ClickException(f"no tenant {tenant_id!r}; create it with `flask tenants create`")
    for row in rows:
        session.merge(Person(tenant_id=tenant_id, **row))


def _store(tenant_id: str, chunk: list[dict]) -> int:
    from extension.services import analytics

    with get_db().session() as session:
        counts = analytics.upsert_facts(session, tenant_id=tenant_id, records=chunk)
    return counts["inserted"] + counts["updated"] + counts["unchanged"]
