from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import JSONType, TenantId, UTCDateTime, utcnow


class Tenant(Base):
    """One customer organisation on one host. Secrets are Fernet tokens (see crypto.SecretBox)."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(TenantId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|disabled|uninstalled
    host_kind: Mapped[str] = mapped_column(String(32), default="genesys")
    region: Mapped[str | None] = mapped_column(String(64))
    api_base: Mapped[str] = mapped_column(String(300))
    login_base: Mapped[str] = mapped_column(String(300))
    host_org_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_id: Mapped[str | None] = mapped_column(String(200))
    client_secret_enc: Mapped[str | None] = mapped_column(String(2000))
    # the person sign-on client (Genesys "Code Authorization" with PKCE); a host OAuth client has
    # one grant type, so it is not the client-credentials client above
    sso_client_id: Mapped[str | None] = mapped_column(String(200))
    inbound_secrets_enc: Mapped[str | None] = mapped_column(String(4000))
    api_keys_enc: Mapped[str | None] = mapped_column(String(4000))
    console_origins: Mapped[list] = mapped_column(JSONType, default=list)
    calendar_provider: Mapped[str | None] = mapped_column(String(16))  # graph|google|None
    calendar_config_enc: Mapped[str | None] = mapped_column(String(4000))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    policy: Mapped[dict | None] = mapped_column(JSONType)
    # host roles/permissions/groups/reports -> Coachwire role (extension.platform.roles); None:
    # the defaults
    role_mapping: Mapped[dict | None] = mapped_column(JSONType)
    # /sso/jwt for other hosts (extension.platform.sso_jwt): sealed JSON {issuer, audience,
    # algorithm RS256|HS256, jwks_url | secret}; None: the tenant takes no host-signed tokens
    jwt_config_enc: Mapped[str | None] = mapped_column(String(4000))
    retention: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
