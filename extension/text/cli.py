"""flask commands for quality management (forms import, sampling runs, calibration reports)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from extension.platform.db import get_db

quality_cli = AppGroup("quality", help="Quality management: forms, sampling, calibration.")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use an ISO-8601 date or date-time", param_hint="--since") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@quality_cli.command("analyse")
@click.argument("tenant_id")
@click.option("--since", default=None, help="Only interactions updated since (ISO-8601; naive = UTC)")
def analyse(tenant_id, since):
    """Run the text analytics over TENANT's stored transcripts and store the results (redacted)."""
    from extension.platform.models.tenants import Tenant
    from extension.text import interaction_analytics

    moment = _since(since)
    with get_db().session() as session:
        if session.get(Tenant, tenant_id) is None:
            raise click.ClickException(f"no tenant {tenant_id!r}")
        count = interaction_analytics.analyse_stored(session, tenant_id, since=moment)
    click.echo(f"analysed {count} interaction(s) of {tenant_id}")
