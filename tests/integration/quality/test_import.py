"""POST /api/v1/forms/import: the sandbox host serves the Genesys published form (in the
reference's EvaluationFormResponse shape); the connector fetches it; an equivalent form is stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from extension.platform import hosts
from extension.quality.models.evaluations import QualityForm, QualityFormVersion
from sandbox.app import create_app as create_sandbox
from sandbox.quality import SUPPORT_FORM_ID, SURVEY_FORM_ID, forms
from tests.contract.reference import check_model
from tests.integration.quality.conftest import audit_actions, count, sandbox_host, snapshot


@pytest.fixture
def host(people):
    """Requests to the tenant's API and login hosts answered by the sandbox app."""
    sandbox = create_sandbox(seed=7, now=datetime(2025, 6, 11, 8, tzinfo=UTC)).test_client()
    with sandbox_host(sandbox) as calls:
        yield calls


def test_the_sandbox_serves_the_reference_shape():
    for form in forms().values():
        assert check_model({**form, "modifiedDate": "2025-06-11T08:00:00.000Z"},
                           "EvaluationFormResponse", "form") == []


def test_the_sandbox_form_conforms_to_the_sdk_model():
    pytest.importorskip("PureCloudPlatformClientV2")
    from tests.sandbox.sdk import conforms

    for form in forms().values():
        conforms({**form, "modifiedDate": "2025-06-11T08:00:00.000Z"}, "EvaluationFormResponse")


def test_import_stores_an_equivalent_published_form(client, db, host, token_for):
    response = client.post("/api/v1/forms/import", json={"genesysFormId": SUPPORT_FORM_ID,
                                                          "interaction_type": "voice"},
                           headers=token_for("qa1"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert f"/api/v2/quality/publishedforms/evaluations/{SUPPORT_FORM_ID}" in host
    assert body["genesys_form_id"] == SUPPORT_FORM_ID and body["status"] == "published"
    assert body["interaction_type"] == "voice" and body["name"] == "Support call"
    document = body["latest"]["document"]
    opening, resolution = document["groups"]
    assert (opening["weight"], resolution["weight"], resolution["na_enabled"]) == (40, 20, True)
    greeting, recording = opening["questions"]
    assert greeting["help_text"] == "Read the opening script exactly."  # the text block moved here
    assert recording["is_kill"] and resolution["questions"][0]["is_critical"]
    assert resolution["questions"][1]["visibility"] == {
        "question_id": resolution["questions"][0]["id"],
        "option_ids": [resolution["questions"][0]["options"][1]["id"]]}
    assert resolution["questions"][2]["type"] == "free_text"
    assert audit_actions(db) == ["form.created", "form.published"]


def test_importing_again_unchanged_adds_no_version(client, db, host, token_for):
    headers = token_for("mgr")
    client.post("/api/v1/forms/import", json={"genesysFormId": SUPPORT_FORM_ID}, headers=headers)
    again = client.post("/api/v1/forms/import", json={"genesysFormId": SUPPORT_FORM_ID}, headers=headers)
    assert again.status_code == 200 and again.get_json()["latest_version"] == 1
    assert count(db, QualityForm) == 1 and count(db, QualityFormVersion) == 1


def test_an_unrepresentable_form_is_422_naming_the_genesys_path(client, db, host, token_for):
    before = snapshot(db, QualityForm, QualityFormVersion)
    response = client.post("/api/v1/forms/import", json={"genesysFormId": SURVEY_FORM_ID},
                           headers=token_for("mgr"))
    assert response.status_code == 422
    assert "/questionGroups/0/questions/0/type" in [e["field"] for e in response.get_json()["errors"]]
    assert snapshot(db, QualityForm, QualityFormVersion) == before and audit_actions(db) == []


def test_an_unknown_host_form_is_422_on_the_field(client, db, host, token_for):
    response = client.post("/api/v1/forms/import",
                           json={"genesysFormId": "00000000-0000-4000-8000-00000000dead"},
                           headers=token_for("mgr"))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["genesysFormId"]
    assert count(db, QualityForm) == 0


@pytest.mark.parametrize("form_id", ["../../../users/me", "..%2F..%2Fusers%2Fme", "no-such-form",
                                     SUPPORT_FORM_ID + "/../../../users/me"])
def test_a_form_id_that_is_not_a_host_id_is_422_and_never_reaches_the_host(client, db, people,
                                                                           token_for, form_id):
    hosts.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = client.post("/api/v1/forms/import", json={"genesysFormId": form_id},
                               headers=token_for("mgr"))
        assert len(mock.calls) == 0  # not even a token request
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["genesysFormId"]
    assert count(db, QualityForm) == 0


def test_a_host_refusal_is_502_and_stores_nothing(client, db, people, token_for):
    hosts.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:  # token may be cached
        mock.add("POST", "https://login.mypurecloud.ie/oauth/token",
                 json={"access_token": "t", "token_type": "bearer", "expires_in": 3600})
        url = f"https://api.mypurecloud.ie/api/v2/quality/publishedforms/evaluations/{SUPPORT_FORM_ID}"
        mock.add("GET", url, status=403,
                 json={"message": "missing permission", "code": "missing.permissions", "status": 403})
        response = client.post("/api/v1/forms/import", json={"genesysFormId": SUPPORT_FORM_ID},
                               headers=token_for("mgr"))
    hosts.forget()
    assert response.status_code == 502 and response.mimetype == "application/problem+json"
    assert count(db, QualityForm) == 0 and audit_actions(db) == []


def test_the_import_body_is_validated(client, people, token_for):
    response = client.post("/api/v1/forms/import", json={"formId": "x"}, headers=token_for("mgr"))
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"genesysFormId", "formId"}
    assert client.post("/api/v1/forms/import", json={"genesysFormId": "x"},
                       headers=token_for("a1")).status_code == 403


def test_storing_an_import_never_asks_the_host():
    """import_genesys only stores what fetch_genesys_form fetched with no transaction open; it
    has no way to ask the host itself (the answer is a required argument)."""
    import inspect

    from extension.quality import forms

    response = inspect.signature(forms.import_genesys).parameters["response"]
    assert response.default is inspect.Parameter.empty
    assert "_published_form" not in inspect.getsource(forms.import_genesys)
