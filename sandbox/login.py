"""Person sign-on as Genesys Cloud offers it: Authorization Code with PKCE (reference
``auth.otherGrantsInSdk.pkce``), and what a person's token can ask about itself.

- ``GET /oauth/authorize`` (response_type=code, client_id, redirect_uri, state,
  code_challenge, code_challenge_method=S256): a person picker (a plain HTML form) instead of a
  password page; ``POST /oauth/authorize`` redirects to ``redirect_uri`` with ``code`` and
  ``state``. An unknown client or a bad redirect URI is shown, never redirected to; other
  request errors go back to the redirect URI as ``error=...`` (RFC 6749 4.1.2.1).
- ``POST /oauth/token`` with grant_type=authorization_code (code, redirect_uri, client_id,
  code_verifier; no secret): the code is good once, for ``code_seconds``, for the same client
  and redirect URI, and only with the verifier whose S256 is the challenge; anything else is
  ``400 {"error": "invalid_grant", ...}``.
- ``GET /api/v2/tokens/me`` (TokenInfo) and ``GET /api/v2/users/me`` (UserMe, with the
  ``authorization`` and ``groups`` expands; refused for client-credentials tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, jsonify, redirect, render_template_string, request

from sandbox.auth import bearer_token
from sandbox.directory import authorization_json, group_json
from sandbox.errors import bad_request
from sandbox.serialize import list_arg, user_json
from sandbox.state import state, world

bp = Blueprint("sandbox_login", __name__)

# GET /api/v2/users/me's expand enum (reference operation getUsersMe)
ME_EXPANDS = frozenset((
    "routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice",
    "geolocation", "station", "authorization", "lasttokenissued", "authorization.unusedRoles",
    "team", "workPlanBidRanks", "externalContactsSettings", "groups", "customAttributes",
    "profileSkills", "certifications", "locations", "skills", "languages", "languagePreference",
    "employerInfo", "biography", "dateLastLogin", "dateWelcomeSent", "date",
    "geolocationsettings", "organization", "presencedefinitions",
    "divisionedpresencedefinitions", "locationdefinitions", "orgauthorization", "orgproducts",
    "favorites", "superiors", "directreports", "adjacents", "routingskills", "routinglanguages",
    "fieldconfigs", "token", "trustors", "logCapture", "autoanswersettings"))
ORG_NAME = "Sandbox org"
# the host roles and permissions a sandbox person holds (names as Genesys's default roles)
PICKER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox host: sign in</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}label{display:block;margin:.5em 0}</style>
</head><body><h1>Sign in to the sandbox host</h1>
<p>Pick who you are (client <code>{{ client_id }}</code>).</p>
<form method="post" action="/oauth/authorize">
{% for name, value in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<label for="user_id">Person</label>
<select id="user_id" name="user_id">
{% for group, people in groups %}<optgroup label="{{ group }}">
{% for p in people %}<option value="{{ p.id }}">{{ p.name }} ({{ p.email }})</option>
{% endfor %}</optgroup>{% endfor %}
</select>
<button type="submit">Sign in</button></form></body></html>"""

PARAMS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
          "code_challenge_method")


def _page(status: int, message: str):
    body = render_template_string("<!doctype html><title>Sign-in error</title><h1>Sign-in "
                                  "error</h1><p>{{ m }}</p>", m=message)
    return body, status, {"Content-Type": "text/html; charset=utf-8"}


def _back(redirect_uri: str, **params: str):
    sep = "&" if urlsplit(redirect_uri).query else "?"
    return redirect(f"{redirect_uri}{sep}{urlencode(params)}", code=302)


def _checked(values) -> tuple[dict | None, object]:
    """(the request's parameters, None) when good; (None, response) when not."""
    params = {name: values.get(name, "") for name in PARAMS}
    if params["client_id"] not in state().config.sso_client_ids:
        return None, _page(400, "Unknown OAuth client.")
    parts = urlsplit(params["redirect_uri"])
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        return None, _page(400, "The redirect URI is not an absolute http(s) URL.")
    back = params["redirect_uri"]
    extra = {"state": params["state"]} if params["state"] else {}
    if params["response_type"] != "code":
        return None, _back(back, error="unsupported_response_type", **extra)
    challenge = params["code_challenge"]
    if params["code_challenge_method"] != "S256" or not 43 <= len(challenge) <= 128:
        return None, _back(back, error="invalid_request",
                           error_description="PKCE with S256 is required", **extra)
    return params, None


def _people_groups():
    w = world()
    active = [p for p in w.people.values() if p.state == "active" and p.role != "integration"]
    return [(label, sorted((p for p in active if p.role == role), key=lambda p: p.name))
            for role, label in (("supervisor", "Supervisors"), ("agent", "Agents"))]


@bp.get("/oauth/authorize")
def authorize():
    params, refusal = _checked(request.args)
    if params is None:
        return refusal
    hidden = [(name, params[name]) for name in PARAMS]
    return render_template_string(PICKER, hidden=hidden, groups=_people_groups(),
                                  client_id=params["client_id"])


@bp.post("/oauth/authorize")
def authorize_as():
    params, refusal = _checked(request.form)
    if params is None:
        return refusal
    person = world().people.get(request.form.get("user_id", ""))
    if person is None or person.state != "active" or person.role == "integration":
        return _page(400, "Pick an active person.")
    code = secrets.token_urlsafe(24)
    s = state()
    with s.lock:
        s.codes[code] = {"client_id": params["client_id"], "redirect_uri": params["redirect_uri"],
                         "challenge": params["code_challenge"], "user_id": person.id,
                         "expires": s.now() + timedelta(seconds=s.config.code_seconds)}
    extra = {"state": params["state"]} if params["state"] else {}
    return _back(params["redirect_uri"], code=code, **extra)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def code_grant():
    """POST /oauth/token with grant_type=authorization_code (called by sandbox.auth.token)."""
    form, s = request.form, state()
    if form.get("client_id") not in s.config.sso_client_ids:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    with s.lock:
        grant = s.codes.pop(form.get("code", ""), None)  # a code is good once
    verifier = form.get("code_verifier", "")
    if grant is None or grant["expires"] <= s.now():
        return _oauth_error(400, "invalid_grant", "The authorization code is invalid or expired")
    if grant["client_id"] != form.get("client_id") or grant["redirect_uri"] != form.get(
            "redirect_uri"):
        return _oauth_error(400, "invalid_grant", "The code was issued to another client or "
                                                  "redirect URI")
    if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(s256(verifier),
                                                                  grant["challenge"]):
        return _oauth_error(400, "invalid_grant", "PKCE verification failed")
    token, seconds = s.issue_token("genesys")
    with s.lock:
        s.user_tokens[token] = (grant["user_id"], grant["client_id"])
    return jsonify(access_token=token, token_type="bearer", expires_in=seconds)


def _oauth_error(status: int, error: str, description: str):
    return jsonify(error=error, error_description=description), status


def _org() -> dict:
    return {"id": world().org_id, "name": ORG_NAME}


@bp.get("/api/v2/tokens/me")
def tokens_me():
    """TokenInfo of the caller's token (guard_api has checked it)."""
    s = state()
    user = s.user_tokens.get(bearer_token())
    client_id, grant = (user[1], "CODE") if user else (s.config.client_id, "CLIENT-CREDENTIALS")
    return jsonify({"organization": _org(), "homeOrganization": _org(), "authorizedScope": [],
                    "OAuthClient": {"id": client_id, "name": f"Sandbox {client_id}",
                                    "authorizedGrantType": grant, "organization": _org()}})


@bp.get("/api/v2/users/me")
def users_me():
    unknown = [value for value in list_arg("expand") if value not in ME_EXPANDS]
    if unknown:
        raise bad_request(f"Invalid expand value(s): {', '.join(unknown)}")
    user = state().user_tokens.get(bearer_token())
    if user is None:
        raise bad_request("This request is not valid when using the Client Credentials OAuth "
                          "grant.")
    w = world()
    person = w.people[user[0]]
    body = user_json(person, w)
    expands = set(list_arg("expand"))
    if "authorization" in expands:
        body["authorization"] = authorization_json(person)
    if "groups" in expands:
        team = w.team_of(person.id)
        body["groups"] = [group_json(team)] if team else []
    if "directreports" in expands:  # UserMe.directReports: a supervisor's team
        team = w.team_of(person.id)
        lead = team is not None and team.supervisor_id == person.id
        body["directReports"] = [user_json(w.people[a], w) for a in team.agent_ids] if lead else []
    return jsonify(body)
