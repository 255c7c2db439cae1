"""flask commands of coaching: ``tenants set-policy`` (added to the platform's tenants group)."""

from __future__ import annotations

import json

import click

from extension.platform.cli import tenant_or_fail, tenants_cli
from extension.platform.db import get_db


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
        issues = policy_service.set_policy(session, tenant_or_fail(session, tenant_id), document)
    if issues:
        for issue in issues:
            click.echo(f"{issue.path}: {issue.message}", err=True)
        raise click.ClickException("policy rejected; nothing changed")
    click.echo(f"policy of {tenant_id} updated")
