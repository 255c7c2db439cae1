"""OAuth client credentials (POST /oauth/token) and the bearer check on /api/v2; the
authorization_code grant of person sign-on is in ``sandbox.login``."""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Blueprint, jsonify, request

from sandbox.errors import error_response
from sandbox.state import state

bp = Blueprint("sandbox_oauth", __name__)


@bp.post("/oauth/token")
def token():
    cfg = state().config
    if request.form.get("grant_type") == "authorization_code":
        from sandbox.login import code_grant

        return code_grant()
    if request.form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type",
                            "Only client_credentials and authorization_code are offered")
    client_id, secret = basic_credentials(request.headers.get("Authorization", ""))
    if not (_same(client_id, cfg.client_id) and _same(secret, cfg.client_secret)):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    access_token, seconds = state().issue_token("genesys")
    return jsonify(access_token=access_token, token_type="bearer", expires_in=seconds)


def basic_credentials(header: str) -> tuple[str, str]:
    """Decode `Basic base64(id:secret)`; empty strings when the header is malformed."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _oauth_error(status: int, error: str, description: str):
    # The token endpoint speaks RFC 6749 errors, not ErrorBody.
    return jsonify(error=error, error_description=description), status


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def guard_api():
    """before_request for /api/v2: authentication first, then the throttle control."""
    if not request.path.startswith("/api/v2/"):
        return None
    if not state().token_valid(bearer_token(), "genesys"):
        return error_response(401, "bad.credentials", "Invalid login credentials.")
    retry_after = state().take_throttle()
    if retry_after is not None:
        message = "Rate limit exceeded the maximum. Retry the request later."
        response, status = error_response(429, "too.many.requests", message)
        response.headers["Retry-After"] = str(retry_after)
        return response, status
    return None
