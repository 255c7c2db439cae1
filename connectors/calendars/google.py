"""Google Calendar availability (POST {google_base}/calendar/v3/freeBusy) and its tokens.

Google's token endpoint (https://oauth2.googleapis.com/token) has no client-credentials grant.
Two grants fit a server reading supervisors' calendars:
- a service account with domain-wide delegation: a JWT signed with the account's private key
  (RS256; claims iss = client_email, scope, aud = token URI, iat, exp <= iat + 1 h, sub = the
  Workspace user to act as) sent as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer;
- a user's OAuth consent: grant_type=refresh_token with client_id, client_secret, refresh_token.
`google_token_provider` builds either from the tenant's calendar config and caches the access
token until shortly before `expires_in` (CachedTokenProvider), so a freeBusy call does not cost
a token request. A 403 whose reason is rateLimitExceeded/userRateLimitExceeded is Google's rate
limit (transient, retried with backoff); any other 403 is a permission problem (not retried).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import jwt
import requests

from connectors.calendars.base import CalendarUnavailable, Interval, parse_rfc3339, utc
from connectors.errors import ConnectorError, RateLimited, excerpt, parse_retry_after
from connectors.http import TokenProvider, Transport
from connectors.tokens import CachedTokenProvider, MemoryTokenCache, RedisTokenCache, cache_key

GOOGLE_BASE = "https://www.googleapis.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# the narrowest scope freeBusy accepts (calendar.v3 discovery: calendar.freebusy)
FREEBUSY_SCOPE = "https://www.googleapis.com/auth/calendar.freebusy"
ASSERTION_SECONDS = 3600  # Google accepts assertions valid for at most one hour
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def classify_google_error(response: requests.Response) -> ConnectorError | None:
    """Google answers quota exhaustion with 403 and a rate-limit reason: transient."""
    if response.status_code != 403:
        return None
    try:
        errors = ((response.json() or {}).get("error") or {}).get("errors") or []
    except (ValueError, AttributeError):
        return None
    reasons = {e.get("reason") for e in errors if isinstance(e, dict)}
    if reasons & RATE_LIMIT_REASONS:
        return RateLimited(
            "rate limited", status=403, excerpt=excerpt(response.content),
            retry_after=parse_retry_after(response.headers.get("Retry-After")))
    return None


def google_token_provider(
    config: Mapping[str, Any],
    *,
    cache: MemoryTokenCache | RedisTokenCache | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> CachedTokenProvider:
    """A cached token source from a calendar config: a service-account key (`client_email`,
    `private_key`, optional `token_uri`, `subject`, `scopes`) or an OAuth refresh token
    (`client_id`, `client_secret`, `refresh_token`, optional `token_url`)."""
    if config.get("private_key") and config.get("client_email"):
        token_uri = config.get("token_uri") or TOKEN_URI
        subject = config.get("subject")
        scopes = config.get("scopes") or [FREEBUSY_SCOPE]
        scope = " ".join(scopes) if isinstance(scopes, list | tuple) else str(scopes)

        def form() -> dict[str, str]:
            now = int(clock())
            claims = {"iss": config["client_email"], "scope": scope, "aud": token_uri,
                      "iat": now, "exp": now + ASSERTION_SECONDS}
            if subject:
                claims["sub"] = subject
            headers = {"kid": config["private_key_id"]} if config.get("private_key_id") else None
            assertion = jwt.encode(claims, config["private_key"], algorithm="RS256",
                                   headers=headers)
            return {"grant_type": JWT_BEARER, "assertion": assertion}

        key = cache_key("google", token_uri, config["client_email"], subject or "", scope)
    else:
        token_uri = config.get("token_url") or config.get("token_uri") or TOKEN_URI
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not config.get(k)]
        if missing:
            raise ValueError(f"google calendar config lacks {', '.join(missing)}")

        def form() -> dict[str, str]:
            return {"grant_type": "refresh_token", "refresh_token": config["refresh_token"],
                    "client_id": config["client_id"], "client_secret": config["client_secret"]}

        key = cache_key("google", token_uri, config["client_id"], config["refresh_token"])
    base, path = token_uri.rsplit("/", 1)
    login = Transport(base, session=session, sleep=sleep)

    def fetch() -> tuple[str, float]:
        answer = login.request("POST", "/" + path, data=form())
        return answer["access_token"], float(answer.get("expires_in") or 3600)

    return CachedTokenProvider(fetch, key=key, cache=cache, clock=clock)


class GoogleCalendar:
    def __init__(
        self,
        *,
        token: Callable[[], str] | CachedTokenProvider,
        google_base: str = GOOGLE_BASE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        provider: TokenProvider
        if isinstance(token, CachedTokenProvider):
            provider = token  # cached until expiry; a 401 discards it (refresh=True)
        else:
            def provider(*, refresh: bool = False) -> str:
                # The supplier owns caching and refresh; on a 401 we simply ask it again.
                return token()

        self.transport = Transport(
            google_base, token_provider=provider, session=session, sleep=sleep,
            classify=classify_google_error,
        )

    def busy_intervals(self, email_or_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Busy periods of one calendar in [start, end); raises CalendarUnavailable on errors."""
        body = {
            "timeMin": utc(start).isoformat().replace("+00:00", "Z"),
            "timeMax": utc(end).isoformat().replace("+00:00", "Z"),
            "timeZone": "UTC",
            "items": [{"id": email_or_id}],
        }
        answer = self.transport.request("POST", "/calendar/v3/freeBusy", json=body)
        return _busy_from(_calendar_for(answer, email_or_id))


def _calendar_for(answer: Any, calendar_id: str) -> dict[str, Any]:
    calendar = ((answer or {}).get("calendars") or {}).get(calendar_id)
    if calendar is None:
        raise CalendarUnavailable("calendar missing from freeBusy answer", reason="missing")
    if calendar.get("errors"):
        reasons = ",".join(e.get("reason") or "unknown" for e in calendar["errors"])
        raise CalendarUnavailable(f"freeBusy error: {reasons}", reason=reasons)
    return calendar


def _busy_from(calendar: dict[str, Any]) -> list[Interval]:
    periods = calendar.get("busy") or []
    return sorted((parse_rfc3339(p["start"]), parse_rfc3339(p["end"])) for p in periods)
