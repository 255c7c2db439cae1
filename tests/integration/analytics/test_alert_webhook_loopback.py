"""With ``webhook_allow_loopback`` in the settings' extra (tests, the sandbox; never set from the
environment) an alert webhook may be saved for, and delivered to, a plain-http loopback receiver:
a real server on 127.0.0.1, no fake transport."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook
from werkzeug.wrappers import Request, Response

from extension.analytics import alert_delivery
from tests.helpers import serving
from tests.integration.analytics.test_alert_delivery import _deliveries, _one_alert, people  # noqa: F401


@pytest.fixture
def settings(settings):
    return settings.with_overrides(extra={**settings.extra, "webhook_allow_loopback": True})


@pytest.mark.usefixtures("people")
def test_a_loopback_receiver_gets_the_signed_alert_when_loopback_is_allowed(app, client, db, token_for,
                                                                              run_jobs):
    got: list[tuple[dict, bytes]] = []

    @Request.application
    def receiver(request):
        got.append(({k.lower(): v for k, v in request.headers.items()}, request.get_data()))
        return Response(status=204)

    with serving(receiver) as base:
        response = client.put("/api/v1/alert-settings", headers=token_for("adm", "admin"),
                              json={"webhook_url": f"{base}/hook", "email_enabled": False})
        assert response.status_code == 200, response.get_json()
        secret = response.get_json()["webhook_secret"]
        key = _one_alert(db)
        with app.app_context():
            assert alert_delivery.dispatch("acme") == 1
        run_jobs()
    ((headers, body),) = got
    assert Webhook(secret).verify(body, headers)["data"]["key"] == key
    assert [d.status for d in _deliveries(db, channel="webhook")] == ["sent"]
