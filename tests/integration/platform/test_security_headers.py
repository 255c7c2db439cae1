"""Security headers on every answer: Flask's views, problems, the webhook receiver (issue 12 §6)."""

from __future__ import annotations

from tests.helpers import dumps, signed_headers, user_end

ALWAYS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "frame-ancestors 'none'"}


def _has_always(response) -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (name, dict(response.headers))


def test_api_answers_are_never_stored_and_never_framed(client):
    for url in ("/api/v1/openapi.json", "/api/v1/metrics"):  # a 200 and a 401 problem
        response = client.get(url)
        _has_always(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_health_is_not_framed_and_hsts_only_over_https(client):
    plain = client.get("/healthz")
    _has_always(plain)
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/healthz", base_url="https://coachwire.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_405_keeps_its_allow_header(client):
    response = client.delete("/api/v1/openapi.json")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.mimetype == "application/problem+json"
    _has_always(response)


def test_the_webhook_receivers_answers_carry_them_too(client, tenant):
    tenant_id, secret = tenant
    body = dumps(user_end("c-h", "agent-1"))
    accepted = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    refused = client.post(f"/webhooks/{tenant_id}", data=body, headers={"content-type": "application/json"})
    wrong_method = client.get(f"/webhooks/{tenant_id}")
    assert (accepted.status_code, refused.status_code, wrong_method.status_code) == (202, 401, 405)
    for response in (accepted, refused, wrong_method):
        _has_always(response)
        assert response.headers["Cache-Control"] == "no-store"
    assert wrong_method.headers["Allow"] == "POST"
