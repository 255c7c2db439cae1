"""flask privacy: the data map, subject export, erasure (with a dry run)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask.cli import AppGroup

from extension.platform.db import get_db
from extension.platform.errors import DomainError
from extension.privacy import archive, subjects
from extension.privacy.domain import datamap

privacy_cli = AppGroup("privacy", help="Data map, subject access, erasure and retention.")
ACTOR = "system:cli"


def _subject_of(tenant: str, person: str | None, customer: str | None):
    if bool(person) == bool(customer):
        raise click.UsageError("give exactly one of --person and --customer")

    def subject_of(session):
        if person:
            return subjects.person_subject(session, tenant, person)
        return subjects.customer_subject(session, tenant, customer or "")

    return subject_of


def _subject_options(func):
    func = click.option("--customer", help="The customer's address (e-mail or phone)")(func)
    func = click.option("--person", help="The host user id of a staff member")(func)
    return click.option("--tenant", required=True)(func)


@privacy_cli.command("datamap")
def datamap_command():
    """Print the data map (the generated part of docs/privacy.md)."""
    click.echo(datamap.render_markdown(), nl=False)


@privacy_cli.command("export")
@_subject_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory to write the archive into")
def export_command(tenant, person, customer, out):
    """Write the subject's archive: a zip of export.json, classes.csv and one CSV per table."""
    subject_of = _subject_of(tenant, person, customer)
    try:
        with get_db().session() as session:
            found = subject_of(session)
            body = subjects.export(session, found, actor=ACTOR)
    except DomainError as exc:
        raise click.ClickException(exc.detail or exc.title) from exc
    out.mkdir(parents=True, exist_ok=True)
    stamp = body["generated_at"][:19].replace(":", "").replace("-", "")
    path = out / f"privacy-export-{tenant}-{found.kind}-{stamp}.zip"
    # the archive is personal data: readable by its owner only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out_file:
        out_file.write(archive.zip_bytes(body))
    rows = sum(len(r) for r in body["tables"].values())
    click.echo(f"{path}\t{rows} rows in {len(body['tables'])} tables")


@privacy_cli.command("erase")
@_subject_options
@click.option("--dry-run", is_flag=True, help="List what would be erased; change nothing")
def erase_command(tenant, person, customer, dry_run):
    """Erase (delete or pseudonymise) everything about a subject; safe to run again."""
    subject_of = _subject_of(tenant, person, customer)
    db = get_db()
    try:
        if dry_run:
            with db.session() as session:
                steps = subjects.plan(session, subject_of(session))
            click.echo(json.dumps({"dry_run": True, "steps": [s.__dict__ for s in steps]}, indent=2))
            return
        report = subjects.erase(db.session, tenant, subject_of, actor=ACTOR)
    except DomainError as exc:
        raise click.ClickException(exc.detail or exc.title) from exc
    click.echo(json.dumps(report, indent=2, sort_keys=True))


@privacy_cli.command("retention")
@click.option("--tenant", help="One tenant (default: every tenant)")
@click.option("--dry-run", is_flag=True, help="Count what is past its period; change nothing")
@click.option("--yield-ratio", type=click.FloatRange(min=0), default=None,
              help="Sleep this many times each batch's duration after it (default 1; 0: full speed)")
def retention_command(tenant, dry_run, yield_ratio):
    """Apply retention now (the periodic job does it every 6 hours) and print the report."""
    from extension.privacy import retention

    db = get_db()
    try:
        reports = ([retention.run_tenant(db.session, tenant, dry_run=dry_run, yield_ratio=yield_ratio)]
                   if tenant else retention.run_all(db.session, dry_run=dry_run, yield_ratio=yield_ratio))
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(reports, indent=2))


@privacy_cli.command("set-retention")
@click.option("--tenant", required=True)
@click.option("--class", "cls", required=True, type=click.Choice(sorted(datamap.CLASSES)))
@click.option("--days", type=int, help="The period in days; 0 for the default")
@click.option("--keep", is_flag=True, help="Never remove this class by age")
def set_retention_command(tenant, cls, days, keep):
    """Set a tenant's retention period for one data class (audited)."""
    from extension.privacy import retention

    if keep == (days is not None) or (days is not None and days < 0):
        raise click.UsageError("give --days N (N >= 0) or --keep")
    with get_db().session() as session:
        try:
            settings = retention.set_period(session, tenant, cls, None if keep else days, actor=ACTOR)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(settings, sort_keys=True))
