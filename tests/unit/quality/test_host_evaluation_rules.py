"""Mirroring Genesys evaluations: the status mapping, the ordering rule, and the connector call
that fetches an evaluation (the host faked with ``responses``)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.errors import NotFound
from connectors.genesys import GenesysClient
from connectors.ratelimit import BucketSpec, InMemoryTokenBucket
from extension.quality.host_evaluations import _newer, lifecycle_status

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"
REFERENCE = Path(__file__).resolve().parents[3].parent / "shared/reference/genesys-cloud-api.json"


@pytest.mark.parametrize(("status", "released", "read", "expected"), [
    ("PENDING", False, False, "assigned"),
    ("INPROGRESS", False, False, "in_progress"),
    ("FINISHED", False, False, "submitted"),
    ("FINISHED", True, False, "released"),
    ("FINISHED", True, True, "acknowledged"),
    ("INREVIEW", True, False, "released"),
    ("RETRACTED", True, True, "retracted"),
    ("Finished", False, False, "submitted"),  # the topic model's casing
    ("SOMETHING_NEW", True, False, None),  # a newer enum value keeps the mirror as it is
])
def test_genesys_status_maps_onto_our_lifecycle(status, released, read, expected):
    assert lifecycle_status(status, released=released, agent_has_read=read) == expected


def test_every_reference_status_is_mapped():
    models = json.loads(REFERENCE.read_text())["models"]
    for status in models["Evaluation"]["enums"]["status"]:
        assert lifecycle_status(status, released=False, agent_has_read=False) is not None
    for status in models["EvaluationQualityV2TopicEvaluationV2"]["enums"]["status"]:
        assert lifecycle_status(status, released=False, agent_has_read=False) is not None


T1 = datetime(2026, 11, 20, 12, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 13, tzinfo=UTC)


@pytest.mark.parametrize(("version", "changed", "stored", "expected"), [
    (3, None, SimpleNamespace(host_version=2, host_changed_at=T2), True),
    (1, T2, SimpleNamespace(host_version=2, host_changed_at=T1), False),  # version first
    (2, T2, SimpleNamespace(host_version=2, host_changed_at=T1), True),  # same version, later
    (2, T1, SimpleNamespace(host_version=2, host_changed_at=T1), False),  # a duplicate
    (2, None, SimpleNamespace(host_version=2, host_changed_at=T1), False),
    (1, None, SimpleNamespace(host_version=2, host_changed_at=None), False),
    (None, T2, SimpleNamespace(host_version=None, host_changed_at=T1), True),
    (None, T1, SimpleNamespace(host_version=None, host_changed_at=T1), False),
    (None, None, SimpleNamespace(host_version=None, host_changed_at=T1), True),  # compare content
])
def test_only_a_later_version_or_change_time_counts_as_newer(version, changed, stored, expected):
    assert _newer(version, changed, stored) is expected


@pytest.fixture
def genesys():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(f"{LOGIN}/oauth/token", json={"access_token": "tok", "expires_in": 86400})
        client = GenesysClient(api_base=API, login_base=LOGIN, client_id="c", client_secret="s",
                               tenant_key=f"t-{uuid.uuid4().hex}",
                               bucket=InMemoryTokenBucket(BucketSpec(capacity=100, per_second=100)))
        yield client, mocked


def test_the_evaluation_is_fetched_with_its_form_expanded(genesys):
    client, mocked = genesys
    url = f"{API}/api/v2/quality/conversations/c1/evaluations/e1"
    mocked.get(url, json={"id": "e1", "status": "FINISHED", "version": 3})
    assert client.quality.evaluation("c1", "e1") == {"id": "e1", "status": "FINISHED",
                                                     "version": 3}
    [call] = [c for c in mocked.calls if "/evaluations/" in c.request.url]
    assert parse_qs(urlsplit(call.request.url).query) == {"expand": ["evaluationForm"]}


def test_a_missing_evaluation_is_not_found(genesys):
    client, mocked = genesys
    mocked.get(f"{API}/api/v2/quality/conversations/c1/evaluations/gone", status=404,
               json={"message": "not found", "code": "not.found", "status": 404})
    with pytest.raises(NotFound):
        client.quality.evaluation("c1", "gone")
