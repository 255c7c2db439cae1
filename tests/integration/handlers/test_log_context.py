"""Log records carry the context they were emitted in: the tenant and delivery id the webhook
receiver is answering, the job id and tenant the job runner (embedded queue or RQ worker) is
running."""

from __future__ import annotations

import logging

from extension.platform import logs
from tests.helpers import dumps, signed_headers, user_end


def test_a_record_emitted_inside_a_drain_job_carries_the_job_id_and_tenant(
        client, tenant, run_jobs, caplog):
    tenant_id, secret = tenant
    body = dumps({"events": [user_end("c-1", "agent-1")]})
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code == 202
    outer = logs.current()  # the request's, as the test client answered on this thread
    with caplog.at_level(logging.DEBUG, logger="coachwire.jobs"):
        run_jobs()
    [record] = [r for r in caplog.records if r.getMessage() == "drained 1 events"]
    assert record.tenant == "acme"
    assert record.job_id  # the RQ job's id, or the embedded queue's
    assert record.delivery_id is None  # a job is not answering a delivery
    assert logs.current() == outer  # the runner put the context back as it found it


def test_a_rejected_delivery_is_logged_with_its_tenant_and_delivery_id(client, tenant, caplog):
    with caplog.at_level(logging.INFO, logger="coachwire.webhooks"):
        response = client.post("/webhooks/acme", data=b'{"events": []}', headers={
            "webhook-id": "msg_rejected", "webhook-timestamp": "1",
            "webhook-signature": "v1,AAAA", "content-type": "application/json"})
    assert response.status_code == 401
    [record] = [r for r in caplog.records if r.getMessage().startswith("webhook rejected")]
    assert (record.tenant, record.delivery_id, record.job_id) == ("acme", "msg_rejected", None)


def test_the_next_request_does_not_inherit_the_previous_requests_context(client, tenant, caplog):
    """The test client answers on this thread, as a pooled server thread would."""
    client.post("/webhooks/acme", data=b"{}", headers={"webhook-id": "msg_a", "x-api-key": "k"})
    assert logs.tenant() == "acme"
    with caplog.at_level(logging.INFO, logger="coachwire"):
        assert client.post("/webhooks/nobody", data=b"{}").status_code == 404
        logging.getLogger("coachwire.test").info("after the unknown tenant")
    [record] = [r for r in caplog.records if r.getMessage() == "after the unknown tenant"]
    assert (record.tenant, record.delivery_id) == (None, None)
