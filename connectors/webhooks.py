"""Outbound webhooks: a JSON POST signed per Standard Webhooks, to a public endpoint only.

The URL is checked when it is saved (:func:`url_problem`: https, no internal name, no literal
internal address in any spelling, e.g. ``2130706433``, ``127.1``, ``0x7f000001``, ``[::1]``,
``[::ffff:127.0.0.1]``) and again when the socket is opened: the host name is resolved there and
the address actually connected to must be public (not loopback, private, link-local, multicast,
reserved or unspecified), so a name that resolves, or is re-bound, to an internal address between
the check and the call reaches nothing. ``allow_loopback`` (tests, the sandbox; never on by
default) lets loopback addresses, and plain http to them, through.

Like every connector it knows nothing of the app: it takes a URL, a secret and a payload.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

from connectors.errors import Invalid, Transient, decipher

TIMEOUT = 10.0
_INTERNAL_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal")
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")
# what inet_aton (and so the resolver) reads as an IPv4 address: 1 to 4 dotted decimal, octal
# or hex parts, e.g. 2130706433, 127.1, 0x7f000001, 0177.0.0.1
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolved only to addresses webhooks may not reach (raised at connect time)."""


def address_problem(address: IpAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not connect to ``address``, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "a public address, not a loopback one"
    if (address.is_private or address.is_link_local or address.is_multicast or address.is_reserved
            or address.is_unspecified or not address.is_global
            or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)):
        return "a public address, not a private, link-local, multicast or reserved one"
    return None


def literal_address(host: str) -> IpAddress | None:
    """``host`` as an IP address if it is one in any spelling a resolver accepts, else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return ipaddress.IPv4Address(0)  # numeric but not an address: refuse it (unspecified)
    return None


def url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why ``url`` may not receive webhooks, or None. Internal names and literal internal
    addresses are refused here; names are resolved, and their addresses checked, when the
    connection is made (:class:`GuardedAdapter`)."""
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - a malformed port raises ValueError
    except ValueError:
        return "an https:// URL"
    if not host:
        return "an https:// URL"
    address = literal_address(host)
    # plain http only to loopback, and only where loopback is allowed (tests, the sandbox)
    loopback_http = allow_loopback and parts.scheme == "http" and (
        host == "localhost" or (address is not None and address_problem(address) is not None
                                and address_problem(address, allow_loopback=True) is None))
    if parts.scheme != "https" and not loopback_http:
        return "an https:// URL"
    if host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES):
        return None if allow_loopback and host == "localhost" else "a public host, not an internal name"
    if address is not None:
        return address_problem(address, allow_loopback=allow_loopback)
    return None


class _GuardedConnection(HTTPConnection):
    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        """Resolve the host once, keep only the addresses a webhook may reach, and connect to
        one of those (TLS still verifies the certificate against the host name)."""
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise AddressRefused(f"{self._dns_host} does not resolve") from exc
        allowed = [info for info in found
                   if address_problem(ipaddress.ip_address(str(info[4][0]).split("%")[0]),
                                      allow_loopback=self.allow_loopback) is None]
        if not allowed:
            raise AddressRefused(f"{self._dns_host} resolves only to internal addresses")
        last: OSError | None = None
        for _family, _type, _proto, _name, sockaddr in allowed:
            try:
                return urllib3_connection.create_connection(
                    (str(sockaddr[0]), self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as exc:
                last = exc
        raise OSError(f"could not connect to {self._dns_host}") from last


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


def _pools(allow_loopback: bool) -> dict[str, type]:
    http = type("Conn", (_GuardedConnection,), {"allow_loopback": allow_loopback})
    https = type("Conn", (_GuardedHTTPSConnection,), {"allow_loopback": allow_loopback})
    return {"http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("Pool", (HTTPSConnectionPool,), {"ConnectionCls": https})}


_POOLS = {flag: _pools(flag) for flag in (False, True)}


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections check the address they connect to."""

    def __init__(self, *, allow_loopback: bool = False) -> None:
        self.allow_loopback = allow_loopback
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS[self.allow_loopback]


def guarded_session(*, allow_loopback: bool = False) -> requests.Session:
    """A session for webhook calls: guarded connections, no proxies from the environment (a
    proxy would make the checked address the proxy's), redirects never followed by callers."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(allow_loopback=allow_loopback)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def signed_headers(secret: str, *, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers (the library's signer: v1,<base64 HMAC-SHA256>)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body), "content-type": "application/json"}


def post_signed(url: str, secret: str, *, msg_id: str, payload: dict[str, Any],
                allow_loopback: bool = False) -> None:
    """POST ``payload``; Transient on network trouble, 429 and 5xx; Invalid on other refusals,
    on an internal address (checked on the URL and again on the address connected to) and on
    redirects (never followed: a redirect could point inside the network)."""
    problem = url_problem(url, allow_loopback=allow_loopback)
    if problem is not None:
        raise Invalid(f"webhook URL refused: needs {problem}")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    headers = signed_headers(secret, msg_id=msg_id, body=body, at=datetime.now(UTC))
    try:
        with guarded_session(allow_loopback=allow_loopback) as session:
            response = session.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT,
                                    allow_redirects=False)
    except AddressRefused as exc:
        raise Invalid(f"webhook URL refused: {exc}") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise Transient(f"webhook {type(exc).__name__}") from None
    if response.status_code >= 300:
        decipher(response.status_code, response.headers, response.content)
        raise Invalid("unexpected redirect", status=response.status_code)
