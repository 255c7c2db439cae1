"""``require(permission)``: bearer token -> checked Principal on ``flask.g``, or a problem.

A request with no ``Authorization`` header that carries the panel session cookie is
authenticated by that session instead (the panels' own calls): the session's person and their
stored role, exactly as the panels check them (:func:`extension.platform.sessions.load`).
``extension.platform.csrf`` has already checked such a request's Fetch Metadata and, for an
unsafe method, its CSRF token. With an ``Authorization`` header the cookie is ignored.

401 for a missing, malformed or expired token and for a person or tenant we no longer know;
403 when the role lacks the permission. The person is looked up on every request, and their
*stored* role is what counts (the token's role claim is only what it was at issue), so removing
or demoting someone, or disabling the tenant, takes effect before their token expires. A token
revoked by id (``flask tokens revoke --jti``) or issued before the person's "not before"
(``flask tokens revoke --person``) is a 401 as well.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from extension.platform import csrf, sessions
from extension.platform.auth import tokens
from extension.platform.auth.permissions import Principal
from extension.platform.db import get_db
from extension.platform.models.people import Person, RevokedToken
from extension.platform.models.sessions import PanelSession
from extension.platform.models.tenants import Tenant
from extension.platform.problems import Problem, problem_response
from extension.platform.sso import digest

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="coachwire"'}


def require(permission: str):
    """Decorate a view: it runs only for a caller holding ``permission``."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            try:
                if csrf.cookie_authenticated():
                    principal = _from_panel_session(request.cookies[csrf.COOKIE])
                else:
                    principal = authenticate(request.headers.get("Authorization", ""))
            except tokens.TokenError as exc:
                problem = Problem(401, "Unauthorized", f"A valid bearer token is required ({exc}).")
                return problem_response(problem, headers=CHALLENGE)
            if not principal.can(permission):
                raise Problem(403, "Forbidden", f"Role {principal.role!r} may not {permission}.")
            g.principal = principal
            return view(*args, **kwargs)

        guarded.permission = permission
        return guarded

    return decorator


def current_principal() -> Principal:
    return g.principal


def _from_panel_session(secret: str) -> Principal:
    db = get_db()
    with db.session() as session:
        row = session.get(PanelSession, digest(secret))
        tenant_id = row.tenant_id if row is not None else None
    current = None if tenant_id is None else sessions.load(
        db, current_app.extensions["coachwire.box"], secret=secret, tenant_id=tenant_id)
    if current is None:
        raise tokens.TokenError("the panel session has ended; open the panel again")
    return current.principal


def authenticate(header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise tokens.TokenError("no bearer token")
    claims = tokens.verify(current_app.config["SECRET_KEY"], token.strip())
    role = _stored_role(claims)
    return Principal(tenant_id=claims.tenant_id, person_id=claims.person_id, role=role)


def _stored_role(claims: tokens.Claims) -> str:
    with get_db().session() as session:
        tenant = session.get(Tenant, claims.tenant_id)
        person = session.get(Person, (claims.tenant_id, claims.person_id))
        role = person.role if person is not None else None
        known = tenant is not None and person is not None and person.active
        tenant_active = tenant is not None and tenant.status == "active"
        not_before = person.tokens_not_before if person is not None else None
        revoked = known and session.get(RevokedToken, (claims.tenant_id, claims.token_id)) is not None
    if not known or role is None:
        raise tokens.TokenError("unknown tenant or person")
    if revoked or (not_before is not None and claims.issued_at < not_before):
        raise tokens.TokenError("the token has been revoked")
    if not tenant_active:
        raise Problem(403, "Forbidden", "This tenant is not active.")
    return role
