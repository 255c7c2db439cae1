"""Tenant lifecycle: create, rotate inbound secrets, disable, and a short-lived config cache.

Inbound secrets are lists so rotation can keep the previous secret valid for a grace period
(Standard Webhooks accepts several signatures for exactly this reason).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.platform import audit
from extension.platform.crypto import SecretBox
from extension.platform.models.tenants import Tenant

SEALED_COLUMNS = ("client_secret_enc", "inbound_secrets_enc", "api_keys_enc", "jwt_config_enc",
                  "calendar_config_enc")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class TenantError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class TenantConfig:
    """What the hot path needs, decrypted once and cached briefly."""

    id: str
    status: str
    inbound_secrets: tuple[str, ...]
    api_keys: tuple[str, ...]
    timezone: str


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_api_key() -> str:
    return "cwk_" + secrets.token_urlsafe(32)


def create(session: Session, box: SecretBox, *, name: str, tenant_id: str | None = None,
           api_base: str, login_base: str, client_id: str | None = None,
           client_secret: str | None = None, timezone: str = "UTC", region: str | None = None,
           host_org_id: str | None = None, console_origins: list[str] | None = None,
           calendar_provider: str | None = None, calendar_config: dict | None = None,
           inbound_secret: str | None = None, sso_client_id: str | None = None,
           actor: str = "system:cli") -> tuple[Tenant, str]:
    tenant_id = tenant_id or uuid.uuid4().hex[:12]
    _validate(session, tenant_id=tenant_id, timezone=timezone, calendar_provider=calendar_provider)
    secret = inbound_secret or new_webhook_secret()
    tenant = Tenant(
        id=tenant_id, name=name, api_base=api_base.rstrip("/"), login_base=login_base.rstrip("/"),
        region=region, host_org_id=host_org_id, client_id=client_id, sso_client_id=sso_client_id,
        client_secret_enc=box.seal(client_secret) if client_secret else None,
        inbound_secrets_enc=box.seal([secret]), api_keys_enc=box.seal([]),
        console_origins=console_origins or [], timezone=timezone,
        calendar_provider=calendar_provider,
        calendar_config_enc=box.seal(calendar_config) if calendar_config else None,
        retention={}, status="active",
    )
    session.add(tenant)
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="tenant.created",
                 subject_type="tenant", subject_id=tenant_id,
                 details={"name": name, "api_base": tenant.api_base})
    return tenant, secret


def _validate(session: Session, *, tenant_id: str, timezone: str, calendar_provider) -> None:
    if not SLUG.match(tenant_id):
        raise TenantError("id", "use 2-63 lower-case letters, digits and dashes")
    if session.get(Tenant, tenant_id) is not None:
        raise TenantError("id", "a tenant with this id already exists")
    _validate_settings(timezone=timezone, calendar_provider=calendar_provider)


def _validate_settings(*, timezone: str, calendar_provider) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TenantError("timezone", f"unknown time zone {timezone!r}") from exc
    if calendar_provider not in (None, "graph", "google"):
        raise TenantError("calendar_provider", "must be graph or google")


def rotate_secret(session: Session, box: SecretBox, tenant: Tenant, *, keep_previous: bool = True,
                  actor: str = "system:cli") -> str:
    secret = new_webhook_secret()
    current = box.open(tenant.inbound_secrets_enc) or []
    tenant.inbound_secrets_enc = box.seal([secret, *current[:1]] if keep_previous else [secret])
    audit.record(session, tenant_id=tenant.id, actor=actor, action="tenant.secret_rotated",
                 subject_type="tenant", subject_id=tenant.id,
                 details={"kept_previous": keep_previous})
    invalidate(tenant.id)
    return secret


def add_api_key(session: Session, box: SecretBox, tenant: Tenant, *,
                actor: str = "system:cli") -> str:
    key = new_api_key()
    tenant.api_keys_enc = box.seal([key, *(box.open(tenant.api_keys_enc) or [])])
    audit.record(session, tenant_id=tenant.id, actor=actor, action="tenant.api_key_added",
                 subject_type="tenant", subject_id=tenant.id, details={})
    invalidate(tenant.id)
    return key


def set_status(session: Session, tenant: Tenant, status: str, *, actor: str = "system:cli") -> None:
    previous, tenant.status = tenant.status, status
    audit.record(session, tenant_id=tenant.id, actor=actor, action=f"tenant.{status}",
                 subject_type="tenant", subject_id=tenant.id, details={"previous": previous})
    invalidate(tenant.id)


def _sealed_elsewhere():
    """Per-tenant rows outside ``tenants`` that hold sealed secrets: (model, column), from every
    mapped model that declares ``__sealed__`` (its capability's own columns, e.g. the FCR
    customer-key secret and the alert webhook signing secret)."""
    from extension.platform.db import Base

    found = [(mapper.class_, attr) for mapper in Base.registry.mappers
             for attr in getattr(mapper.class_, "__sealed__", ())]
    return sorted(found, key=lambda pair: (pair[0].__tablename__, pair[1]))


def reseal_all(session: Session, box: SecretBox, *, actor: str = "system:cli") -> int:
    """Re-encrypt every secret under the newest data key (key rotation): the tenant's own
    columns, the FCR customer-key secret and the alert webhook signing secret."""
    resealed: dict[str, list[str]] = {}
    for tenant in session.scalars(select(Tenant)):
        columns = [attr for attr in SEALED_COLUMNS if getattr(tenant, attr)]
        for attr in columns:
            setattr(tenant, attr, box.rotate(getattr(tenant, attr)))
        if columns:
            resealed[tenant.id] = columns
    for model, attr in _sealed_elsewhere():
        for row in session.scalars(select(model).where(getattr(model, attr).is_not(None))):
            setattr(row, attr, box.rotate(getattr(row, attr)))
            resealed.setdefault(row.tenant_id, []).append(f"{model.__tablename__}.{attr}")
    for tenant_id, columns in sorted(resealed.items()):
        audit.record(session, tenant_id=tenant_id, actor=actor, action="tenant.resealed",
                     subject_type="tenant", subject_id=tenant_id, details={"columns": columns})
    return sum(len(columns) for columns in resealed.values())


@dataclass(frozen=True)
class InstallResult:
    tenant_id: str
    webhook_secret: str
    created: bool


def _host_bases(data: dict) -> tuple[str, str]:
    from connectors.genesys.regions import bases_for, login_base_for

    try:
        if data.get("region"):
            return bases_for(data["region"])
        return data["apiBase"], data.get("loginBase") or login_base_for(data["apiBase"])
    except ValueError as exc:
        raise TenantError("region" if data.get("region") else "apiBase", str(exc)) from exc


def install(session: Session, box: SecretBox, *, data: dict, actor: str = "system:install"
            ) -> InstallResult:
    """Create the tenant for a host organisation, or update and reactivate the existing one."""
    api_base, login_base = _host_bases(data)
    calendar = data.get("calendar") or {}
    tenant = session.scalar(select(Tenant).where(Tenant.host_org_id == data["hostOrgId"]))
    if tenant is None:
        tenant, secret = create(
            session, box, name=data["name"], api_base=api_base, login_base=login_base,
            client_id=data["clientId"], client_secret=data["clientSecret"],
            timezone=data["timezone"], region=data.get("region"), host_org_id=data["hostOrgId"],
            console_origins=data["consoleOrigins"], calendar_provider=calendar.get("provider"),
            calendar_config=calendar.get("config"), sso_client_id=data.get("ssoClientId"),
            actor=actor)
        audit.record(session, tenant_id=tenant.id, actor=actor, action="tenant.installed",
                     subject_type="tenant", subject_id=tenant.id, details={"reinstall": False})
        return InstallResult(tenant.id, secret, created=True)
    _validate_settings(timezone=data["timezone"], calendar_provider=calendar.get("provider"))
    tenant.name, tenant.api_base, tenant.login_base = data["name"], api_base, login_base
    tenant.client_id, tenant.client_secret_enc = data["clientId"], box.seal(data["clientSecret"])
    if data.get("ssoClientId"):
        tenant.sso_client_id = data["ssoClientId"]
    tenant.timezone, tenant.console_origins = data["timezone"], data["consoleOrigins"]
    if calendar:
        tenant.calendar_provider = calendar["provider"]
        tenant.calendar_config_enc = box.seal(calendar["config"])
    secrets_ = box.open(tenant.inbound_secrets_enc) or [new_webhook_secret()]
    tenant.inbound_secrets_enc, tenant.status = box.seal(secrets_), "active"
    audit.record(session, tenant_id=tenant.id, actor=actor, action="tenant.installed",
                 subject_type="tenant", subject_id=tenant.id, details={"reinstall": True})
    invalidate(tenant.id)
    return InstallResult(tenant.id, secrets_[0], created=False)


def uninstall(session: Session, *, host_org_id: str, actor: str = "system:install") -> str | None:
    """Stop the tenant and forget its credentials; its data follows the retention settings."""
    tenant = session.scalar(select(Tenant).where(Tenant.host_org_id == host_org_id))
    if tenant is None:
        return None
    tenant.status = "uninstalled"
    tenant.client_secret_enc = tenant.inbound_secrets_enc = tenant.api_keys_enc = None
    tenant.calendar_config_enc = None
    audit.record(session, tenant_id=tenant.id, actor=actor, action="tenant.uninstalled",
                 subject_type="tenant", subject_id=tenant.id, details={"host_org_id": host_org_id})
    invalidate(tenant.id)
    return tenant.id


_cache: dict[str, tuple[float, TenantConfig | None]] = {}
_cache_lock = threading.Lock()
CACHE_SECONDS = 5.0
_refreshing: set[str] = set()  # tenants whose expired entry one thread is re-reading


def invalidate(tenant_id: str) -> None:
    with _cache_lock:
        _cache.pop(tenant_id, None)


def load_config(session_factory, box: SecretBox, tenant_id: str) -> TenantConfig | None:
    """Tenant config for the webhook hot path; a few seconds stale at most across processes.

    When an entry expires under load, one thread reads the new one while the others keep
    answering from the expired entry for those few milliseconds, instead of every request
    thread querying at once (a burst of identical queries that held up the whole process).
    """
    now = time.monotonic()
    hit = _cache.get(tenant_id)  # a dict read is atomic; writers take the lock
    if hit and hit[0] > now:
        return hit[1]
    if hit is not None:
        with _cache_lock:
            if tenant_id in _refreshing:
                return hit[1]
            _refreshing.add(tenant_id)
        try:
            config = _read_config(session_factory, box, tenant_id)
        finally:
            with _cache_lock:
                _refreshing.discard(tenant_id)
    else:
        config = _read_config(session_factory, box, tenant_id)
    with _cache_lock:
        _cache[tenant_id] = (now + CACHE_SECONDS, config)
    return config


def _read_config(session_factory, box: SecretBox, tenant_id: str) -> TenantConfig | None:
    with session_factory() as session:
        tenant = session.get(Tenant, tenant_id)
        return None if tenant is None else TenantConfig(
            id=tenant.id, status=tenant.status,
            inbound_secrets=tuple(box.open(tenant.inbound_secrets_enc) or ()),
            api_keys=tuple(box.open(tenant.api_keys_enc) or ()), timezone=tenant.timezone)


def tenant_timezone(session: Session, tenant_id: str) -> str:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    return tenant.timezone or "UTC"
