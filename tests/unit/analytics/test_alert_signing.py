"""Outbound alert webhooks: Standard Webhooks headers a receiver can verify; stable idempotency keys."""

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connectors.webhooks import signed_headers
from extension.analytics.alert_delivery import idempotency_key
from extension.platform.tenants import new_webhook_secret


def test_the_signature_verifies_with_the_standard_webhooks_library_and_only_with_the_secret():
    secret, body = new_webhook_secret(), json.dumps({"type": "performance_alert.raised"})
    headers = signed_headers(secret, msg_id="alert_1", body=body, at=datetime.now(UTC))
    assert headers["webhook-id"] == "alert_1" and headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "performance_alert.raised"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("raised", "closed"), headers)


def test_idempotency_keys_are_stable_per_raise_and_channel_and_differ_otherwise():
    key = idempotency_key("acme", "r1|agent:a1|aht_s", "20250414T060000.000000Z", "webhook")
    assert key == idempotency_key("acme", "r1|agent:a1|aht_s", "20250414T060000.000000Z", "webhook")
    others = {idempotency_key("globex", "r1|agent:a1|aht_s", "20250414T060000.000000Z", "webhook"),
              idempotency_key("acme", "r1|agent:a1|aht_s", "20250415T060000.000000Z", "webhook"),
              idempotency_key("acme", "r1|agent:a1|aht_s", "20250414T060000.000000Z", "email")}
    assert key not in others and len(others) == 3 and len(key) <= 100


@pytest.mark.parametrize(("url", "refused"), [
    ("https://hooks.example.com/coachwire", False),
    ("https://203.0.113.7/hook", True),  # documentation range: not global
    ("https://8.8.8.8/hook", False),
    ("https://127.0.0.1/hook", True),
    ("https://10.1.2.3/hook", True),
    ("https://169.254.169.254/latest/meta-data", True),
    ("https://[::1]/hook", True),
    ("https://localhost/hook", True),
    ("https://db.internal/hook", True),
    ("http://hooks.example.com/hook", True),
])
def test_webhook_urls_must_be_public_https(url, refused):
    from connectors.webhooks import url_problem

    assert (url_problem(url) is not None) is refused


def test_a_refused_url_is_never_posted_to():
    import responses

    from connectors.errors import Invalid
    from connectors.webhooks import post_signed

    with responses.RequestsMock() as mock:  # any request would fail "not registered"
        with pytest.raises(Invalid):
            post_signed("https://127.0.0.1/hook", new_webhook_secret(), msg_id="m1", payload={"a": 1})
        assert len(mock.calls) == 0
