"""Microsoft Graph getSchedule and Google Calendar freeBusy stand-ins over the supervisors'
seeded busy blocks. Field names follow shared/reference/*.json exactly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from flask import Blueprint, jsonify, request

from sandbox.auth import basic_credentials, bearer_token
from sandbox.state import state, world
from sandbox.timeutil import overlaps, parse_dt

bp = Blueprint("sandbox_calendars", __name__)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VIEW_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}


@bp.post("/graph/oauth2/<tenant>/oauth2/v2.0/token")
def graph_token(tenant: str):
    cfg = state().config
    return _token("graph", cfg.graph_client_id, cfg.graph_client_secret)


@bp.post("/google/token")
def google_token():
    """Google's token endpoint offers no client_credentials grant: a server uses a refresh
    token (client_id, client_secret, refresh_token) or a service account's signed JWT
    (grant_type jwt-bearer, assertion). Errors as Google words them."""
    form, cfg = request.form, state().config
    grant = form.get("grant_type")
    if grant == "refresh_token":
        if (form.get("client_id"), form.get("client_secret")) != (cfg.google_client_id,
                                                                   cfg.google_client_secret):
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if form.get("refresh_token") != cfg.google_refresh_token:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
    elif grant == JWT_BEARER:
        problem = _assertion_problem(form.get("assertion"))
        if problem:
            return _oauth_error(400, "invalid_grant", problem)
    else:
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
    token, seconds = state().issue_token("google")
    return jsonify(access_token=token, token_type="Bearer", expires_in=seconds)


def _assertion_problem(assertion: str | None) -> str | None:
    """The claims Google checks. The signature is not verified: the sandbox holds no keys."""
    if not assertion:
        return "assertion is required"
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "Invalid JWT: the assertion is not a JWT."
    if jwt.get_unverified_header(assertion).get("alg") != "RS256":
        return "Invalid JWT: the algorithm must be RS256."
    if not claims.get("iss") or not claims.get("scope"):
        return "Invalid JWT: iss and scope are required."
    if claims.get("aud") != request.base_url:
        return "Invalid JWT: the audience must be the token URL."
    now = time.time()  # assertions are signed with the wall clock, not the simulated one
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        return "Invalid JWT: iat and exp are required."
    if exp - iat > 3600 or exp <= now or iat > now + 300:
        return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
    return None


@bp.post("/graph/v1.0/users/<user_id>/calendar/getSchedule")
def get_schedule(user_id: str):
    if not state().token_valid(bearer_token(), "graph"):
        return _graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
    body = request.get_json(silent=True) or {}
    pick = _picker(body)
    try:
        start, end = _graph_time(pick("startTime")), _graph_time(pick("endTime"))
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError):
        return _graph_error(400, "ErrorInvalidRequest", "startTime and endTime are required.")
    interval = int(pick("availabilityViewInterval") or 30)
    zone = _prefer_zone()
    schedules = pick("schedules") or []
    return jsonify(value=[_schedule_info(s, start, end, interval, zone) for s in schedules])


@bp.post("/google/calendar/v3/freeBusy")
def free_busy():
    if not state().token_valid(bearer_token(), "google"):
        return jsonify(error={"code": 401, "message": "Invalid Credentials",
                              "errors": [{"domain": "global", "reason": "authError"}]}), 401
    body = request.get_json(silent=True) or {}
    try:
        start, end = parse_dt(body["timeMin"]), parse_dt(body["timeMax"])
    except (KeyError, TypeError, ValueError):
        return jsonify(error={"code": 400, "message": "timeMin and timeMax are required",
                              "errors": [{"domain": "global", "reason": "badRequest"}]}), 400
    zone = _zone(body.get("timeZone") or "UTC")
    calendars = {item["id"]: _google_calendar(item["id"], start, end, zone)
                 for item in body.get("items") or [] if item.get("id")}
    return jsonify(kind="calendar#freeBusy", timeMin=_rfc3339(start, zone),
                   timeMax=_rfc3339(end, zone), calendars=calendars)


def _token(realm: str, client_id: str, client_secret: str):
    form = request.form
    given_id = form.get("client_id") or basic_credentials(request.headers.get("Authorization",
                                                                              ""))[0]
    given_secret = form.get("client_secret") or basic_credentials(
        request.headers.get("Authorization", ""))[1]
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Use client_credentials")
    if (given_id, given_secret) != (client_id, client_secret):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    token, seconds = state().issue_token(realm)
    return jsonify(access_token=token, token_type="Bearer", expires_in=seconds)


def _oauth_error(status: int, error: str, description: str):
    return jsonify(error=error, error_description=description), status


def _graph_error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status


def _picker(body: dict):
    """Documented camelCase keys, with the SDK's PascalCase accepted too."""
    return lambda key: body.get(key, body.get(key[0].upper() + key[1:]))


def _graph_time(value: dict) -> datetime:
    local = datetime.fromisoformat(value["dateTime"])
    if local.tzinfo is None:
        local = local.replace(tzinfo=_zone(value.get("timeZone") or "UTC"))
    return local.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    # Windows zone names (e.g. "GMT Standard Time") are not mapped; IANA names and UTC are.
    return ZoneInfo("UTC" if name in ("UTC", "Coordinated Universal Time") else name)


def _prefer_zone() -> ZoneInfo:
    prefer = request.headers.get("Prefer", "")
    if "outlook.timezone=" in prefer:
        name = prefer.split("outlook.timezone=", 1)[1].strip().strip('"')
        try:
            return _zone(name)
        except ZoneInfoNotFoundError:
            pass
    return ZoneInfo("UTC")


def _blocks(email: str, start: datetime, end: datetime):
    return [b for b in world().calendars.get(email, []) if overlaps(b.start, b.end, start, end)]


def _schedule_info(email: str, start: datetime, end: datetime, interval: int,
                   zone: ZoneInfo) -> dict:
    if email not in world().calendars:
        return {"scheduleId": email, "availabilityView": "",
                "error": {"message": "The mailbox could not be found.",
                          "responseCode": "ErrorMailRecipientNotFound"}}
    blocks = _blocks(email, start, end)
    items = [{"isPrivate": False, "status": b.status, "subject": b.subject, "location": "",
              "start": _graph_dt(b.start, zone), "end": _graph_dt(b.end, zone)} for b in blocks]
    return {"scheduleId": email, "availabilityView": _view(blocks, start, end, interval),
            "scheduleItems": items, "workingHours": _working_hours()}


def _view(blocks, start: datetime, end: datetime, interval: int) -> str:
    digits, cursor, step = [], start, timedelta(minutes=interval)
    while cursor < end:
        hits = [b.status for b in blocks if overlaps(b.start, b.end, cursor, cursor + step)]
        digits.append(max((VIEW_DIGIT[s] for s in hits), default="0"))
        cursor += step
    return "".join(digits)


def _graph_dt(value: datetime, zone: ZoneInfo) -> dict:
    return {"dateTime": value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "timeZone": zone.key}


def _working_hours() -> dict:
    return {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
            "timeZone": {"name": world().tz.key}}


def _google_calendar(calendar_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> dict:
    if calendar_id not in world().calendars:
        return {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}
    # freeBusy has no tentative state: any opaque event, tentative or not, is busy time.
    busy = _blocks(calendar_id, start, end)
    return {"busy": [{"start": _rfc3339(max(b.start, start), zone),
                      "end": _rfc3339(min(b.end, end), zone)} for b in busy]}


def _rfc3339(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%SZ") if zone.key == "UTC" else local.isoformat()
