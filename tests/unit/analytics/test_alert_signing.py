"""Outbound alert webhooks: Standard Webhooks headers a receiver can verify; stable idempotency keys."""

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from extension.services.alert_delivery import idempotency_key, signed_headers
from extension.services.tenants import new_webhook_secret


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
