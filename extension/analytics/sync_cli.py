"""flask sync: pull history and the directory from the host; reconcile; settle FCR.

    flask sync --since 90d [--until 2026-01-31] [--tenant ID] [--mode auto|query|jobs] [--restart]
    flask sync --since 7d --reconcile        (same as `flask sync reconcile --since 7d`)
    flask sync reconcile --since 7d --directory   (also groups and queues that differ)
    flask sync people [--tenant ID]
    flask sync directory [--tenant ID]      (groups and routing queues with their members;
                                             the plain `flask sync` runs it after people too,
                                             unless --no-directory)
    flask sync fcr [--tenant ID] [--window-days N]

Registered by extension.analytics.init_app (sync_cli).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from extension.platform.db import get_db
from extension.platform.models.tenants import Tenant

_SPAN = re.compile(r"^(\d{1,5})([dhw])$")
_UNITS = {"d": "days", "h": "hours", "w": "weeks"}


def _moment(text: str, param: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a span like 90d/12h/2w nor an ISO date or "
                                 "datetime", param_hint=param) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_range(since: str, until: str | None) -> tuple[datetime, datetime]:
    """--since SPAN|ISO and --until ISO (default now) as a UTC range; spans count back from until."""
    from extension.analytics import sync

    end = _moment(until, "--until") if until else sync.default_until()
    match = _SPAN.match(since.strip())
    if match:
        amount = int(match.group(1))
        if amount == 0:
            raise click.BadParameter("the span must be more than zero", param_hint="--since")
        start = end - timedelta(**{_UNITS[match.group(2)]: amount})
    else:
        start = _moment(since, "--since")
    if end <= start:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    if end - start > timedelta(days=3660):
        raise click.BadParameter("the range may span at most ten years", param_hint="--since")
    return start, end


def _tenants(session, tenant_ids) -> list[Tenant]:
    query = select(Tenant).where(Tenant.status == "active").order_by(Tenant.id)
    if tenant_ids:
        known = dict(session.execute(select(Tenant.id, Tenant.status).where(Tenant.id.in_(tenant_ids))).all())
        unknown = sorted(set(tenant_ids) - set(known))
        if unknown:
            raise click.ClickException(f"no tenant {', '.join(map(repr, unknown))}; nothing changed")
        inactive = sorted(t for t, status in known.items() if status != "active")
        if inactive:
            names = ", ".join(map(repr, inactive))
            raise click.ClickException(f"tenant {names} is not active; nothing changed")
        query = query.where(Tenant.id.in_(tenant_ids))
    found = list(session.scalars(query))
    for tenant in found:
        session.expunge(tenant)
    return found


@click.group("sync", cls=AppGroup, invoke_without_command=True,
             help="Pull conversation history and the directory from the host.")
@click.option("--since", help="Start: a span back from --until (90d, 12h, 2w) or an ISO date/datetime")
@click.option("--until", help="End (exclusive): ISO date or datetime, UTC unless given; default now")
@click.option("--tenant", "tenant_ids", multiple=True, help="Default: every active tenant")
@click.option("--mode", type=click.Choice(["auto", "query", "jobs"]), default="auto", show_default=True,
              help="query: details query per day; jobs: async details jobs per week; auto: jobs past 7 days")
@click.option("--restart", is_flag=True, help="Ignore the stored cursor and sync the whole range")
@click.option("--reconcile", is_flag=True, help="Only report differences between host and facts")
@click.option("--people/--no-people", default=True, show_default=True,
              help="Also sync users and reporting lines first")
@click.option("--directory/--no-directory", default=True, show_default=True,
              help="Also sync groups and routing queues (after people)")
@click.option("--page-size", default=100, show_default=True, type=click.IntRange(1, 100), hidden=True)
@click.option("--poll-seconds", default=2.0, show_default=True, type=click.FloatRange(0, 60), hidden=True)
@click.pass_context
@with_appcontext
def sync_cli(ctx, since, until, tenant_ids, mode, restart, reconcile, people, directory, page_size,
             poll_seconds):
    if ctx.invoked_subcommand is not None:
        return
    if not since:
        raise click.UsageError("give --since (e.g. --since 90d) or a subcommand "
                               "(people, directory, reconcile, fcr)")
    start, end = parse_range(since, until)
    with get_db().session() as session:
        tenants = _tenants(session, tenant_ids)
    if reconcile:
        for tenant in tenants:
            _reconcile_one(tenant, start, end)
        return
    for tenant in tenants:
        if people:
            _people_one(tenant)
        if directory:
            _directory_one(tenant)
        _sync_one(tenant, start, end, mode=mode, restart=restart, page_size=page_size,
                  poll_seconds=poll_seconds)


def _host_errors(what: str):
    """Host failures as a clear message and exit code 1 instead of a traceback."""
    from contextlib import contextmanager

    from connectors.errors import ConnectorError

    @contextmanager
    def guard():
        try:
            yield
        except ConnectorError as exc:
            raise click.ClickException(f"{what}: the host failed: {exc}") from exc

    return guard()


def _sync_one(tenant: Tenant, start, end, *, mode, restart, page_size, poll_seconds) -> None:
    from connectors.errors import ConnectorError
    from extension.analytics import fcr, sync

    db = get_db()
    with db.session() as session:
        work = sync.plan(session, tenant_id=tenant.id, start=start, end=end, mode=mode, restart=restart)
    if work.resumed_from is not None:
        click.echo(f"{tenant.id}: resuming at {work.resumed_from.isoformat()} (the stored cursor)")
    if not work.chunks:
        click.echo(f"{tenant.id}: already synced to {end.isoformat()}; --restart syncs the range again")
    else:
        label = f"{tenant.id} {work.mode} {work.chunks[0][0]:%Y-%m-%d}..{end:%Y-%m-%d}"
        try:
            with click.progressbar(length=len(work.chunks), label=label, show_pos=True,
                                   item_show_func=lambda text: text) as bar:
                counts = sync.run(db, tenant, work, page_size=page_size, poll_seconds=poll_seconds,
                                  on_chunk=lambda c: bar.update(1, c.line()))
        except KeyboardInterrupt:
            _stopped(tenant, "interrupted")
            raise SystemExit(130) from None
        except (ConnectorError, sync.SyncError) as exc:
            _stopped(tenant, f"the host failed: {exc}")
            raise click.ClickException("sync stopped; run the same command again to resume") from exc
        click.echo(f"{tenant.id}: {counts.line()}; synced to {counts.synced_until:%Y-%m-%dT%H:%M:%SZ}")
    with db.session() as session:
        settled = fcr.finalize(session, tenant_id=tenant.id)
    if settled:
        click.echo(f"{tenant.id}: {settled} first-contact results settled")


def _stopped(tenant: Tenant, why: str) -> None:
    from extension.analytics import sync

    with get_db().session() as session:
        cursor = sync.cursor_of(session, tenant.id)
    where = cursor.isoformat() if cursor else "the start of the range"
    click.echo(f"\n{tenant.id}: {why}; facts are stored up to {where}, where the next run resumes",
               err=True)


def _people_one(tenant: Tenant) -> None:
    from extension.platform import people

    with _host_errors(f"{tenant.id}: people sync stopped"):
        result = people.sync_now(get_db(), tenant.id)
    click.echo(f"{tenant.id}: {result['seen']} users, {result['created']} new, {result['updated']} changed, "
               f"{result['deactivated']} deactivated")


def _directory_one(tenant: Tenant) -> None:
    from extension.platform import directory

    with _host_errors(f"{tenant.id}: directory sync stopped"):
        counts = directory.sync_now(get_db(), tenant.id)
    click.echo(f"{tenant.id}: {directory.summary(counts)}")


def _reconcile_one(tenant: Tenant, start, end) -> None:
    from extension.analytics import sync

    with _host_errors(f"{tenant.id}: reconciliation stopped"):
        pages = sync.host_conversations(tenant, start=start, end=end)  # no transaction open
    with get_db().session() as session:
        report = sync.reconcile(session, tenant, start=start, end=end, pages=pages)
    click.echo(f"{tenant.id}: host {report.host} conversations, stored {report.stored} facts "
               f"({start:%Y-%m-%dT%H:%M}Z..{end:%Y-%m-%dT%H:%M}Z)")
    for conversation_id in report.missing_here:
        click.echo(f"  missing here:  {conversation_id}")
    for conversation_id in report.missing_there:
        click.echo(f"  missing there: {conversation_id}")
    for conversation_id, fields in report.differing.items():
        shown = ", ".join(f"{name} host={theirs!r} here={ours!r}" for name, (theirs, ours) in fields.items())
        click.echo(f"  differs:       {conversation_id}: {shown}")
    click.echo(f"{tenant.id}: {'no differences' if report.clean else 'differences found'} "
               f"({len(report.missing_here)} missing here, {len(report.missing_there)} missing there, "
               f"{len(report.differing)} differing)")


@sync_cli.command("reconcile")
@click.option("--since", required=True, help="A span back from --until (7d) or an ISO date/datetime")
@click.option("--until")
@click.option("--tenant", "tenant_ids", multiple=True, help="Default: every active tenant")
@click.option("--directory", is_flag=True, help="Also compare the host's groups and queues with ours")
def reconcile_command(since, until, tenant_ids, directory):
    """Report differences between the host's conversations and stored facts (changes nothing)."""
    start, end = parse_range(since, until)
    with get_db().session() as session:
        tenants = _tenants(session, tenant_ids)
    for tenant in tenants:
        _reconcile_one(tenant, start, end)
        if directory:
            _reconcile_directory(tenant)


def _reconcile_directory(tenant: Tenant) -> None:
    from extension.platform import directory, hosts

    with _host_errors(f"{tenant.id}: directory reconciliation stopped"):
        host = directory.fetch(hosts.genesys_for(tenant).users)  # no transaction open
    with get_db().session() as session:
        report = directory.differences(session, session.merge(tenant), host=host)
        session.rollback()
    for kind, found in report.items():
        for label, ids in found.items():
            for entity_id in ids:
                click.echo(f"  {kind[:-1]} {label.replace('_', ' ')}: {entity_id}")
    total = sum(len(ids) for found in report.values() for ids in found.values())
    click.echo(f"{tenant.id}: directory {'matches the host' if not total else f'{total} differences'}")


@sync_cli.command("people")
@click.option("--tenant", "tenant_ids", multiple=True, help="Default: every active tenant")
def sync_people(tenant_ids):
    """Users and their managers from the host's directory."""
    with get_db().session() as session:
        tenants = _tenants(session, tenant_ids)
    for tenant in tenants:
        _people_one(tenant)


@sync_cli.command("directory")
@click.option("--tenant", "tenant_ids", multiple=True, help="Default: every active tenant")
def sync_directory(tenant_ids):
    """Groups and routing queues with their members from the host (inactive when gone)."""
    with get_db().session() as session:
        tenants = _tenants(session, tenant_ids)
    for tenant in tenants:
        _directory_one(tenant)


@sync_cli.command("fcr")
@click.option("--tenant", "tenant_ids", multiple=True, help="Default: every active tenant")
@click.option("--window-days", type=click.IntRange(1, 90),
              help="Set the tenant's FCR window (days) and judge every contact again")
def fcr_command(tenant_ids, window_days):
    """Settle first-contact results whose window has passed (run it periodically)."""
    from extension.analytics import fcr

    with get_db().session() as session:
        tenants = _tenants(session, tenant_ids)
    for tenant in tenants:
        with get_db().session() as session:
            if window_days is not None:
                changed = fcr.set_window_days(session, tenant_id=tenant.id, days=window_days)
                click.echo(f"{tenant.id}: FCR window {window_days} days; {changed} facts changed")
            settled = fcr.finalize(session, tenant_id=tenant.id)
        click.echo(f"{tenant.id}: {settled} first-contact results settled")
