"""flask commands of the platform: tenants, tokens, worker, migrate."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from extension.platform.auth.tokens import ROLES
from extension.platform.db import get_db
from extension.platform.models.tenants import Tenant

tenants_cli = AppGroup("tenants", help="Create and manage tenants.")
tokens_cli = AppGroup("tokens", help="Mint and revoke API bearer tokens.")
audit_cli = AppGroup("audit", help="Check the tamper-evident audit trail.")
jobs_cli = AppGroup("jobs", help="The periodic jobs and the processes that run them.")
people_cli = AppGroup("people", help="People's Coachwire roles.")


def _box():
    return current_app.extensions["coachwire.box"]


def tenant_or_fail(session, tenant_id: str) -> Tenant:
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
@click.option("--sso-client-id", help="The panels' sign-on OAuth client (Code grant, PKCE)")
@click.option("--host-org-id", help="The host organisation id (sign-on checks it)")
@click.option("--timezone", default="UTC")
@click.option("--calendar", type=click.Choice(["graph", "google"]))
@click.option("--calendar-config", help="JSON with the calendar provider's settings")
@click.option("--secret", help="Use this whsec_ inbound secret instead of generating one")
@click.option("--json-output", is_flag=True)
def create_tenant(name, tenant_id, region, api_base, login_base, client_id, client_secret,
                  sso_client_id, host_org_id, timezone, calendar, calendar_config, secret,
                  json_output):
    from extension.platform import tenants

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
                calendar_config=calendar_config, inbound_secret=secret,
                sso_client_id=sso_client_id, host_org_id=host_org_id)
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
    from extension.platform import tenants

    with get_db().session() as session:
        secret = tenants.rotate_secret(session, _box(), tenant_or_fail(session, tenant_id),
                                       keep_previous=not drop_previous)
    click.echo(f"new webhook secret: {secret}")


@tenants_cli.command("add-api-key")
@click.argument("tenant_id")
def add_api_key(tenant_id):
    from extension.platform import tenants

    with get_db().session() as session:
        key = tenants.add_api_key(session, _box(), tenant_or_fail(session, tenant_id))
    click.echo(f"new API key: {key}")


@tenants_cli.command("disable")
@click.argument("tenant_id")
def disable(tenant_id):
    from extension.platform import tenants

    with get_db().session() as session:
        tenants.set_status(session, tenant_or_fail(session, tenant_id), "disabled")
    click.echo(f"tenant {tenant_id} disabled")


@tenants_cli.command("enable")
@click.argument("tenant_id")
def enable(tenant_id):
    from extension.platform import tenants

    with get_db().session() as session:
        tenants.set_status(session, tenant_or_fail(session, tenant_id), "active")
    click.echo(f"tenant {tenant_id} enabled")


@tenants_cli.command("jwt")
@click.argument("tenant_id")
@click.option("--issuer", help="The iss the host puts in its tokens")
@click.option("--audience", help="The aud the host addresses its tokens to (e.g. coachwire)")
@click.option("--algorithm", type=click.Choice(["RS256", "HS256"]), default="RS256",
              show_default=True)
@click.option("--jwks-url", help="RS256: the host's JWKS URL (https)")
@click.option("--secret", envvar="COACHWIRE_JWT_SECRET",
              help="HS256: the shared secret (or env COACHWIRE_JWT_SECRET), 32+ characters")
@click.option("--clear", is_flag=True, help="Stop taking host-signed tokens for this tenant")
@click.option("--show", is_flag=True, help="Print the settings (never the secret)")
def tenant_jwt(tenant_id, issuer, audience, algorithm, jwks_url, secret, clear, show):
    """Sign-on from another host with a JWT it signed: GET /t/<tenant>/sso/jwt?jwt=...&next=..."""
    from extension.platform import sso_jwt
    from extension.platform.errors import Invalid

    with get_db().session() as session:
        tenant = tenant_or_fail(session, tenant_id)
        if show:
            config = sso_jwt.config_of(_box(), tenant)
            click.echo(json.dumps(config.public() if config else None))
            return
        if clear:
            sso_jwt.configure(session, _box(), tenant, None)
            click.echo(f"tenant {tenant_id}: JWT sign-on off")
            return
        try:
            config = sso_jwt.validate_config(issuer=issuer or "", audience=audience or "",
                                             algorithm=algorithm, jwks_url=jwks_url,
                                             secret=secret)
        except Invalid as exc:
            reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in exc.errors)
            raise click.ClickException(f"{exc.detail} {reasons}") from None
        sso_jwt.configure(session, _box(), tenant, config)
    click.echo(f"tenant {tenant_id}: JWT sign-on set ({algorithm}, issuer {issuer})")


@tenants_cli.command("reseal")
def reseal():
    """Re-encrypt all secrets with the newest COACHWIRE_DATA_KEYS key."""
    from extension.platform import tenants

    with get_db().session() as session:
        count = tenants.reseal_all(session, _box())
    click.echo(f"re-encrypted {count} secrets")


@click.command("worker")
@click.option("--queues", default="events,effects,default")
@click.option("--burst", is_flag=True)
def worker(queues, burst):
    """Run an RQ worker (with the periodic jobs) on REDIS_URL; it reconnects after a Redis or
    database outage. Without REDIS_URL: run only the periodic jobs (the web runs the events)."""
    from extension.platform.worker import run_worker

    run_worker(current_app._get_current_object(), queues.split(","), burst=burst)


@jobs_cli.command("status")
def jobs_status():
    """When each periodic job last ran, how it ended and when it is next due; live workers."""
    from extension.platform.models.ops import PeriodicLease, WorkerHeartbeat

    with get_db().session() as session:
        leases = session.scalars(select(PeriodicLease).order_by(PeriodicLease.name)).all()
        beats = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.id)).all()
    click.echo("job\tevery\tlast started\tlast finished\toutcome\tnext due")
    for lease in leases:
        click.echo("\t".join(str(value) for value in (
            lease.name, f"{lease.every_seconds}s", _when(lease.last_started_at),
            _when(lease.last_finished_at), lease.last_outcome or "-", _when(lease.due_at))))
    click.echo("\nprocess\trole\tlast seen\tlast job")
    for beat in beats:
        click.echo(f"{beat.id}\t{beat.role}\t{_when(beat.seen_at)}\t{_when(beat.last_job_at)}")


def _when(value) -> str:
    return "-" if value is None else value.isoformat(timespec="seconds")


@click.command("migrate")
def migrate():
    """Upgrade the database to the newest schema (alembic upgrade head)."""
    from extension.platform.migrate import upgrade

    upgrade(current_app.config["SETTINGS"].database_url)
    click.echo("database is at head")


@tokens_cli.command("issue")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--person", "person_id", required=True)
@click.option("--role", type=click.Choice(ROLES),
              help="Must be the person's stored role (the default); the stored role is what counts")
@click.option("--ttl-minutes", default=60, show_default=True, type=click.IntRange(1, 60 * 24 * 30))
def issue_token(tenant_id, person_id, role, ttl_minutes):
    """Print a bearer token for PERSON of TENANT (both must exist); the issue is audited."""
    from extension.platform import audit
    from extension.platform.auth import tokens
    from extension.platform.models.people import Person

    with get_db().session() as session:
        tenant_or_fail(session, tenant_id)
        person = session.get(Person, (tenant_id, person_id))
        if person is None or not person.active:
            raise click.ClickException(f"no active person {person_id!r} in tenant {tenant_id!r}")
        if role is not None and role != person.role:
            raise click.ClickException(f"{person_id!r} is a {person.role}, not a {role}; "
                                       "change the stored role first")
        role = person.role
        secret = current_app.config["SECRET_KEY"]
        token = tokens.issue(secret, tenant_id=tenant_id, person_id=person_id, role=role,
                             ttl=timedelta(minutes=ttl_minutes))
        jti = tokens.verify(secret, token).token_id
        audit.record(session, tenant_id=tenant_id, actor="system:cli", action="token.issued",
                     subject_type="person", subject_id=person_id,
                     details={"role": role, "ttl_minutes": ttl_minutes, "jti": jti})
    click.echo(token)


@tokens_cli.command("revoke")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--token", help="The bearer token to revoke (its id and expiry are read from it)")
@click.option("--jti", help="The id of the token to revoke (see the token.issued audit row)")
@click.option("--person", "person_id", help="Revoke every token of this person issued until now")
def revoke_token(tenant_id, token, jti, person_id):
    """Revoke one token (--token or --jti with --person) or all of a person's tokens so far
    (--person alone); audited as token.revoked."""
    from extension.platform import audit
    from extension.platform.auth import tokens
    from extension.platform.models._types import utcnow
    from extension.platform.models.people import Person, RevokedToken

    if token is not None and (jti is not None or person_id is not None):
        raise click.UsageError("--token names its own person and id; give it alone")
    if token is None and person_id is None:
        raise click.UsageError("give --token, --person, or --jti with --person")
    claims = None
    if jti is not None:
        if not tokens._ID.fullmatch(jti):
            raise click.BadParameter("not a token id", param_hint="--jti")
        now = utcnow().replace(microsecond=0)
        claims = tokens.Claims(tenant_id=tenant_id, person_id=person_id, role="agent",
                               expires_at=now + tokens.MAX_TTL, issued_at=now, token_id=jti)
    if token is not None:
        try:
            claims = tokens.verify(current_app.config["SECRET_KEY"], token.strip())
        except tokens.TokenError as exc:
            raise click.BadParameter(f"not a valid token of this deployment ({exc})",
                                     param_hint="--token") from exc
        if claims.tenant_id != tenant_id:
            raise click.BadParameter(f"the token belongs to tenant {claims.tenant_id!r}",
                                     param_hint="--token")
        person_id = claims.person_id
    with get_db().session() as session:
        tenant_or_fail(session, tenant_id)
        person = session.get(Person, (tenant_id, person_id))
        if person is None:
            raise click.ClickException(f"no person {person_id!r} in tenant {tenant_id!r}")
        if claims is not None:
            if session.get(RevokedToken, (tenant_id, claims.token_id)) is None:
                session.add(RevokedToken(tenant_id=tenant_id, jti=claims.token_id,
                                         person_id=person_id, expires_at=claims.expires_at))
            details = {"jti": claims.token_id, "expires_at": claims.expires_at.isoformat()}
        else:
            # tokens carry whole seconds: everything issued up to this second is revoked
            person.tokens_not_before = utcnow().replace(microsecond=0) + timedelta(seconds=1)
            details = {"not_before": person.tokens_not_before.isoformat()}
        audit.record(session, tenant_id=tenant_id, actor="system:cli", action="token.revoked",
                     subject_type="person", subject_id=person_id, details=details)
    click.echo(f"revoked {'token ' + claims.token_id if claims else 'all tokens'} of {person_id}")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_id", help="Only this tenant (default: every tenant)")
@click.option("--checkpoint", is_flag=True, help="Also checkpoint each intact chain's head")
def verify_audit(tenant_id, checkpoint):
    """Verify the audit chains; exit 1 naming the first bad row of each broken chain."""
    from extension.platform import audit

    db = get_db()
    if tenant_id is not None:
        with db.session() as session:
            tenant_or_fail(session, tenant_id)
    failures = audit.verify_tenants(db.session, None if tenant_id is None else [tenant_id],
                                    anchor=checkpoint)
    for failure in failures:
        click.echo(f"BROKEN {failure}", err=True)
    if failures:
        raise SystemExit(1)
    click.echo("audit chain intact" + (f" for tenant {tenant_id}" if tenant_id else ""))


@people_cli.command("set-role")
@click.argument("tenant_id")
@click.argument("person_id")
@click.argument("role", type=click.Choice([*ROLES, "mapped"]))
def set_role(tenant_id, person_id, role):
    """Set one person's role (an override the role mapping keeps), or ``mapped`` to hand it back
    to the mapping. How a tenant gets its first admin; audited as the CLI."""
    from extension.platform import roles
    from extension.platform.errors import DomainError

    with get_db().session() as session:
        tenant_or_fail(session, tenant_id)
        try:
            person = roles.set_role(session, tenant_id, person_id,
                                    None if role == "mapped" else role, actor="system:cli")
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
        click.echo(f"{person_id}: {person.role} ({person.role_source})")


def register(app) -> None:
    for command in (tenants_cli, worker, migrate, tokens_cli, audit_cli, jobs_cli, people_cli):
        app.cli.add_command(command)
