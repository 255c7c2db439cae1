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
    # numeric spellings a resolver reads as loopback, and mapped or other internal addresses
    ("https://2130706433/hook", True),
    ("https://127.1/hook", True),
    ("https://0x7f000001/hook", True),
    ("https://0177.0.0.1/hook", True),
    ("https://[::ffff:127.0.0.1]/hook", True),
    ("https://[::ffff:a9fe:a9fe]/hook", True),  # 169.254.169.254
    ("https://0.0.0.0/hook", True),
    ("https://224.0.1.1/hook", True),  # multicast
    ("https://240.0.0.1/hook", True),  # reserved
    ("https://134744072/hook", False),  # 8.8.8.8 spelled as one number: public
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


# ---------------------------------------------------------------- connect time

PUBLIC = "93.184.216.34"


@pytest.fixture
def dns(monkeypatch):
    """Fake answers for *.rebind.example (DNS is a third party); every other name resolves as
    usual. Each answer list is used in turn, the last one repeatedly (a re-binding server)."""
    import socket

    answers: dict[str, list[str]] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            asked.append(host)
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers, asked


@pytest.fixture
def connects(monkeypatch):
    """Every socket connection urllib3 opens, recorded and refused (nothing leaves the machine)."""
    from urllib3.util import connection

    made: list[tuple] = []

    def refuse(address, *args, **kwargs):
        made.append(address)
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(connection, "create_connection", refuse)
    return made


@pytest.mark.parametrize("internal", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1"])
def test_a_name_resolving_to_an_internal_address_is_refused_before_any_connection(dns, connects, internal):
    from connectors.errors import Invalid
    from connectors.webhooks import post_signed, url_problem

    answers, _ = dns
    answers["hooks.rebind.example"] = [internal]
    url = "https://hooks.rebind.example/hook"
    assert url_problem(url) is None  # a name: nothing to see until it is resolved
    with pytest.raises(Invalid):
        post_signed(url, new_webhook_secret(), msg_id="m1", payload={"a": 1})
    assert connects == []


def test_the_address_connected_to_is_the_one_checked_so_re_binding_does_not_help(dns, connects):
    from connectors.errors import Transient
    from connectors.webhooks import post_signed

    answers, asked = dns
    answers["hooks.rebind.example"] = [PUBLIC, "127.0.0.1"]  # public for the check, then loopback
    with pytest.raises(Transient):  # the (refused) connection to the public address
        post_signed("https://hooks.rebind.example/hook", new_webhook_secret(), msg_id="m1", payload={})
    assert asked == ["hooks.rebind.example"]  # resolved once, at connect time
    assert connects == [(PUBLIC, 443)]


def _receiver():
    from werkzeug.wrappers import Request, Response

    got: list[bytes] = []

    @Request.application
    def app(request):
        got.append(request.get_data())
        return Response(status=204)

    return app, got


def test_loopback_is_reached_only_when_allowed():
    from connectors.errors import Invalid
    from connectors.webhooks import post_signed
    from tests.helpers import serving

    app, got = _receiver()
    with serving(app) as base:
        port = base.rsplit(":", 1)[1]
        for url in (f"{base}/hook", f"http://localhost:{port}/hook", f"https://localhost:{port}/hook"):
            with pytest.raises(Invalid):  # the default: never loopback
                post_signed(url, new_webhook_secret(), msg_id="m1", payload={"a": 1})
        assert got == []
        secret = new_webhook_secret()
        post_signed(f"http://localhost:{port}/hook", secret, msg_id="m2", payload={"a": 2},
                    allow_loopback=True)
    assert got == [b'{"a":2}']
