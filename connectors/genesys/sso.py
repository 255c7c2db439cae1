"""Sign-on of a person through Genesys Cloud: OAuth Authorization Code with PKCE.

The reference's `auth.otherGrantsInSdk.pkce`: the browser is sent to
``{login_base}/oauth/authorize`` (response_type=code, client_id, redirect_uri, state,
code_challenge, code_challenge_method=S256); the code it brings back is exchanged with
``POST {login_base}/oauth/token`` (form grant_type=authorization_code, code, redirect_uri,
client_id, code_verifier; no client secret). With the person's token we ask
``GET /api/v2/tokens/me`` (TokenInfo: organization, OAuthClient) and
``GET /api/v2/users/me?expand=authorization,groups`` (UserMe; not valid for client credentials).

Pure HTTP over the shared transport: no models, no Flask. Call it with no database transaction
open. A person's token is sent to the tenant's own API host only.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.errors import Invalid
from connectors.http import Transport

# One quick retry at most: a person is waiting in the frame.
ATTEMPTS = 2
TIMEOUT = (3.05, 8)
# roles and permissions, groups, and who reports to the person: the role mapping's facts
USER_EXPANDS = ("authorization", "groups", "directreports")


def new_verifier() -> str:
    """RFC 7636 code verifier: 43 characters of the unreserved set, from ``secrets``."""
    return secrets.token_urlsafe(32)


def challenge_for(verifier: str) -> str:
    """S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(*, login_base: str, client_id: str, redirect_uri: str, state: str,
                  code_challenge: str) -> str:
    query = urlencode({"response_type": "code", "client_id": client_id,
                       "redirect_uri": redirect_uri, "state": state,
                       "code_challenge": code_challenge, "code_challenge_method": "S256"})
    return f"{login_base.rstrip('/')}/oauth/authorize?{query}"


class PersonSignOn:
    """The three host calls of one sign-in, against one tenant's login and API hosts."""

    def __init__(self, *, login_base: str, api_base: str,
                 session: requests.Session | None = None) -> None:
        self._login = Transport(login_base, max_attempts=ATTEMPTS, timeout=TIMEOUT,
                                session=session)
        self._api = Transport(api_base, max_attempts=ATTEMPTS, timeout=TIMEOUT, session=session)

    def exchange_code(self, *, client_id: str, code: str, redirect_uri: str,
                      code_verifier: str) -> dict[str, Any]:
        """The token answer ({access_token, token_type, expires_in}); a refused code or
        verifier is an ``Invalid`` (HTTP 400, ``invalid_grant``). A code is good once, so the
        request is sent again only when the host cannot have seen it."""
        answer = self._login.request(
            "POST", "/oauth/token", create=True,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                  "client_id": client_id, "code_verifier": code_verifier})
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise Invalid("token response without access_token")
        return answer

    def token_info(self, access_token: str) -> dict[str, Any]:
        """TokenInfo of the person's token: ``organization.id``, ``OAuthClient.id``."""
        return self._get("/api/v2/tokens/me", access_token)

    def user_me(self, access_token: str) -> dict[str, Any]:
        """UserMe with ``authorization`` (roles, permissions), ``groups`` and ``directReports``."""
        return self._get("/api/v2/users/me", access_token,
                         params={"expand": list(USER_EXPANDS)})

    def _get(self, path: str, access_token: str, *, params=None) -> dict[str, Any]:
        answer = self._api.request("GET", path, params=params,
                                   headers={"Authorization": f"Bearer {access_token}"})
        if not isinstance(answer, dict):
            raise Invalid(f"{path} answered something other than an object")
        return answer
