"""Outbound request counters, kept here because connectors import nothing of the app.

Only calls that spend a tenant's host budget are counted (a transport with a token bucket, on its
own host): their bucket key is ``<host kind>:<tenant id>`` (GenesysClient), so the tenant label is
a tenant id, never a person. ``code`` is the HTTP status, or ``error`` when no answer came.
``extension.platform.metrics`` exposes these at ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import Counter

HOST_REQUESTS = Counter(
    "coachwire_host_requests", "Requests sent to the host API under a tenant's budget, by answer",
    ["tenant", "code"])


def tenant_of(bucket_key: str) -> str:
    """``genesys:acme`` -> ``acme`` (a key without a kind is the tenant itself)."""
    return bucket_key.partition(":")[2] or bucket_key


def count_host_answer(bucket_key: str, code: int | str) -> None:
    HOST_REQUESTS.labels(tenant=tenant_of(bucket_key), code=str(code)).inc()
