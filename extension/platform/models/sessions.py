from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, TenantId, UTCDateTime, utcnow


class SsoState(Base):
    """One sign-in in flight (``/sso/start`` to the callback): good once, for a few minutes.

    Only hashes of the ``state`` and of the browser's binding cookie are kept; the PKCE code
    verifier is sealed (it never leaves the server)."""

    __tablename__ = "sso_states"
    __table_args__ = (Index("ix_sso_states_expires_at", "expires_at"),)
    __sealed__ = ("code_verifier_enc",)

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(200))  # the one authorize was sent with
    code_verifier_enc: Mapped[str] = mapped_column(String(1000))
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PanelSession(Base):
    """A signed-in person in a panel frame: the cookie carries a random id, this row its hash.

    Revocable (``revoked_at``; also ``Person.tokens_not_before``); the person's stored role is
    read on every request, never kept here. The person's Genesys token stays on the server,
    sealed, for the periodic ``tokens/me`` re-check."""

    __tablename__ = "panel_sessions"
    __table_args__ = (Index("ix_panel_sessions_tenant_person", "tenant_id", "person_id"),
                      Index("ix_panel_sessions_expires_at", "expires_at"))
    __sealed__ = ("host_token_enc",)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(HostId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    host_token_enc: Mapped[str | None] = mapped_column(String(4000))
    host_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host_checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
