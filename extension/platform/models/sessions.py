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
    # a sign-in run in a popup (gcUsePopupAuth): the handover it ends in (SsoHandover.ticket_hash)
    handover_hash: Mapped[str | None] = mapped_column(String(64))


class SsoHandover(Base):
    """A popup sign-in handed back to the frame that asked for it (``gcUsePopupAuth``).

    The frame's cookie jar is partitioned by the console's site; the popup's is not, so a cookie
    the popup gets is not the frame's. The frame therefore gets a ``ticket`` (kept with its
    partitioned binding cookie), the popup a separate ``popup key`` and the frame's message
    ``nonce``; the popup's callback signs the person in, seals the new session id here and hands
    a one-time ``code`` to the frame by ``postMessage``; the frame posts ticket and code back and
    gets the session cookie in its own partition. Only hashes of ticket, popup key and code are
    kept; each is good once, for a few minutes."""

    __tablename__ = "sso_handovers"
    __table_args__ = (Index("ix_sso_handovers_expires_at", "expires_at"),)
    __sealed__ = ("session_enc",)

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    frame_hash: Mapped[str] = mapped_column(String(64))  # the frame's binding cookie
    popup_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))  # not a secret: binds the message to the frame
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    popup_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    session_enc: Mapped[str | None] = mapped_column(String(1000))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SsoJwtId(Base):
    """A host-signed sign-on JWT already used (``/sso/jwt``): its ``jti`` is good once, kept
    until the token's own expiry."""

    __tablename__ = "sso_jwt_ids"
    __table_args__ = (Index("ix_sso_jwt_ids_expires_at", "expires_at"),)

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    # how the person signed in: "genesys" (code grant: the host token is re-checked hourly) or
    # "jwt" (a host-signed token, /sso/jwt: nothing to re-check)
    via: Mapped[str] = mapped_column(String(16), default="genesys", server_default="genesys")
