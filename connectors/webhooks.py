"""Outbound webhooks: a JSON POST signed per Standard Webhooks, and the check that its URL is a
public https endpoint (no loopback, private, link-local or otherwise internal address).

Like every connector it knows nothing of the app: it takes a URL, a secret and a payload.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from standardwebhooks.webhooks import Webhook

from connectors.errors import Invalid, Transient, decipher

TIMEOUT = 10.0
_INTERNAL_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal")
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


def url_problem(url: str) -> str | None:
    """Why ``url`` may not receive webhooks, or None. Literal internal addresses and internal
    host names are refused here; names are not resolved (that is the network's job, and DNS
    answers change), so deployments should also egress-filter."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "an https:// URL"
    host = parts.hostname.rstrip(".").lower()
    if host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES):
        return "a public host, not an internal name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return "a public address, not a loopback, private or link-local one"
    return None


def signed_headers(secret: str, *, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers (the library's signer: v1,<base64 HMAC-SHA256>)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body), "content-type": "application/json"}


def post_signed(url: str, secret: str, *, msg_id: str, payload: dict[str, Any]) -> None:
    """POST ``payload``; Transient on network trouble, 429 and 5xx; Invalid on other refusals
    and on redirects (never followed: a redirect could point inside the network)."""
    problem = url_problem(url)
    if problem is not None:
        raise Invalid(f"webhook URL refused: needs {problem}")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    headers = signed_headers(secret, msg_id=msg_id, body=body, at=datetime.now(UTC))
    try:
        response = requests.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT,
                                 allow_redirects=False)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise Transient(f"webhook {type(exc).__name__}") from None
    if response.status_code >= 300:
        decipher(response.status_code, response.headers, response.content)
        raise Invalid("unexpected redirect", status=response.status_code)
