"""flask commands: tenants, events, worker, demo, db."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from extension.db import get_db
from extension.models import Tenant

tenants_cli = AppGroup("tenants", help="Create and manage tenants.")
events_cli = AppGroup("events", help="Inspect and replay inbox events.")


def _box():
    return current_app.extensions["coachwire.box"]


def _tenant(session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise click.ClickException(f"no tenant {tenant_id!r}")
    return tenant


@tenants_cli.command("create")
@click.option("--name", required=True)
@click.option("--id", "tenant_id")
@click.option("--region", help="Genesys region domain, e.g. mypurecloud.ie")
@click.option("--api-base", help="Override, e.g. the sandbox host http://127.0.0.1:5050")
@click.option("--login-base")
@click.option("--client-id")
@click.option("--client-secret")
@click.option("--timezone", default="UTC")
@click.option("--calendar", type=click.Choice(["graph", "google"]))
@click.option("--calendar-config", help="JSON with the calendar provider's settings")
@click.option("--secret", help="Use this whsec_ inbound secret instead of generating one")
@click.option("--json-output", is_flag=True)
def create_tenant(name, tenant_id, region, api_base, login_base, client_id, client_secret,
                  timezone, calendar, calendar_config, secret, json_output):
    from extension.services import tenants

    if not api_base and not region:
        raise click.UsageError("give --region or --api-base")
    api_base = api_base or f"https://api.{region}"
    login_base = login_base or api_base.replace("://api.", "://login.", 1)
    try:
        calendar_config = json.loads(calendar_config) if calendar_config else None
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--calendar-config") from exc
    try:
        with get_db().session() as session:
            tenant, inbound = tenants.create(
                session, _box(), name=name, tenant_id=tenant_id, api_base=api_base,
                login_base=login_base, client_id=client_id, client_secret=client_secret,
                timezone=timezone, region=region, calendar_provider=calendar,
                calendar_config=calendar_config, inbound_secret=secret)
    except tenants.TenantError as exc:
        raise click.BadParameter(exc.message, param_hint=exc.field) from exc
    if json_output:
        click.echo(json.dumps({"id": tenant.id, "webhook_secret": inbound}))
    else:
        click.echo(f"tenant {tenant.id} created\nwebhook URL: /webhooks/{tenant.id}\n"
                   f"webhook secret: {inbound}")


@tenants_cli.command("list")
def list_tenants():
    with get_db().session() as session:
        for tenant in session.scalars(select(Tenant).order_by(Tenant.created_at)):
            click.echo(f"{tenant.id}\t{tenant.status}\t{tenant.name}\t{tenant.api_base}")


@tenants_cli.command("rotate-secret")
@click.argument("tenant_id")
@click.option("--drop-previous", is_flag=True, help="Stop accepting the old secret at once")
def rotate_secret(tenant_id, drop_previous):
    from extension.services import tenants

    with get_db().session() as session:
        secret = tenants.rotate_secret(session, _box(), _tenant(session, tenant_id),
                                       keep_previous=not drop_previous)
    click.echo(f"new webhook secret: {secret}")


@tenants_cli.command("add-api-key")
@click.argument("tenant_id")
def add_api_key(tenant_id):
    from extension.services import tenants

    with get_db().session() as session:
        key = tenants.add_api_key(session, _box(), _tenant(session, tenant_id))
    click.echo(f"new API key: {key}")


@tenants_cli.command("disable")
@click.argument("tenant_id")
def disable(tenant_id):
    from extension.services import tenants

    with get_db().session() as session:
        tenants.set_status(session, _tenant(session, tenant_id), "disabled")
    click.echo(f"tenant {tenant_id} disabled")


@tenants_cli.command("enable")
@click.argument("tenant_id")
def enable(tenant_id):
    from extension.services import tenants

    with get_db().session() as session:
        tenants.set_status(session, _tenant(session, tenant_id), "active")
    click.echo(f"tenant {tenant_id} enabled")


@tenants_cli.command("set-policy")
@click.argument("tenant_id")
@click.argument("policy_file", type=click.File("r"))
def set_policy(tenant_id, policy_file):
    """Replace the tenant's trigger policy with a validated JSON document."""
    from extension.coaching import policies as policy_service

    try:
        document = json.load(policy_file)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="POLICY_FILE") from exc
    with get_db().session() as session:
        issues = policy_service.set_policy(session, _tenant(session, tenant_id), document)
    if issues:
        for issue in issues:
            click.echo(f"{issue.path}: {issue.message}", err=True)
        raise click.ClickException("policy rejected; nothing changed")
    click.echo(f"policy of {tenant_id} updated")


@tenants_cli.command("reseal")
def reseal():
    """Re-encrypt all secrets with the newest COACHWIRE_DATA_KEYS key."""
    from extension.services import tenants

    with get_db().session() as session:
        count = tenants.reseal_all(session, _box())
    click.echo(f"re-encrypted {count} secrets")


@events_cli.command("replay")
@click.argument("event_id", required=False, type=int)
@click.option("--failed", is_flag=True, help="Replay every dead-lettered event")
@click.option("--tenant")
def replay(event_id, failed, tenant):
    from handlers.jobs import replay as replay_rows

    if event_id is None and not failed:
        raise click.UsageError("give an event id or --failed")
    count = replay_rows(event_id=event_id, failed=failed, tenant_id=tenant)
    click.echo(f"replayed {count} event(s)")


@click.command("worker")
@click.option("--queues", default="events,effects,default")
@click.option("--burst", is_flag=True)
def worker(queues, burst):
    """Run an RQ worker (with the periodic sweeps) on REDIS_URL."""
    from extension.worker import run_worker

    run_worker(current_app._get_current_object(), queues.split(","), burst=burst)


@click.command("migrate")
def migrate():
    """Upgrade the database to the newest schema (alembic upgrade head)."""
    from extension.migrate import upgrade

    upgrade(current_app.config["SETTINGS"].database_url)
    click.echo("database is at head")


def register(app) -> None:
    from extension.analytics.cli import analytics_cli, demo_data_command, tokens_cli
    from extension.analytics.sync_cli import sync_cli
    from extension.cli_listener import listener_command
    from extension.text.cli import quality_cli

    for command in (tenants_cli, events_cli, sync_cli, worker, migrate, listener_command,
                    tokens_cli, analytics_cli, demo_data_command, quality_cli):
        app.cli.add_command(command)
