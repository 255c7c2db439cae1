"""No 5xx on hostile input, for any operation: one sweep over the OpenAPI document sends every
kind of hostile value in each path and query parameter and each JSON body field an operation
declares (as an admin), and deeply nested bodies; focused tests check each kind's 4xx problem
names the field. Run on PostgreSQL too: it refuses NUL characters that SQLite stores."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.factories import add_people, bearer

HUGE = 2**64
HOSTILE_JSON: dict[str, Any] = {
    "nul": "a\u0000b", "surrogate": "\ud800", "huge_int": HUGE, "huge_negative": -(2**63) - 1,
    "giant_int": 10**40, "infinite": float("inf"), "year_1": "0001-01-01", "year_9999": "9999-12-31",
    "instant_1": "0001-01-01T00:00:00Z", "instant_9999": "9999-12-31T23:59:59Z",
}
CURSOR_2_63 = base64.urlsafe_b64encode(json.dumps({"o": 2**63}).encode()).decode()
# query values as sent on the wire (already percent-encoded)
HOSTILE_QUERY = {
    "nul": "a%00b", "surrogate": "%ED%A0%80", "huge_int": str(HUGE), "huge_negative": str(-(2**63) - 1),
    "year_1": "0001-01-01", "year_9999": "9999-12-31", "instant_1": "0001-01-01T00:00:00Z",
    "instant_9999": "9999-12-31T23:59:59Z", "cursor_2_63": CURSOR_2_63,
}
HOSTILE_PATH = {"nul": "a%00b", "huge_int": str(HUGE), "year_9999": "9999-12-31"}
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


@pytest.fixture
def admin(app, db, tenant):
    add_people(db, tenant[0], [("adm", "admin", None, None), ("a1", "agent", "t1", "sup1"),
                               ("sup1", "supervisor", "t1", None)])
    return bearer(app, "adm", "admin", tenant_id=tenant[0])


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _baseline(spec: dict, schema: dict, depth: int = 0) -> Any:
    """A plausible value for ``schema`` so that a hostile value in one field meets valid others."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        properties = schema.get("properties", {}).items()
        return {name: _baseline(spec, inner, depth + 1) for name, inner in properties
                if not inner.get("readOnly")}
    if kind == "array":
        return [_baseline(spec, schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    return {"date": "2026-01-05", "date-time": "2026-01-05T10:00:00+00:00"}.get(schema.get("format"), "x")


def _field_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every leaf and container below the top of a baseline body (dict keys and list indexes)."""
    paths = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        paths.append((*prefix, key))
        paths += _field_paths(inner, (*prefix, key))
    return paths


def _with(body: Any, path: tuple, hostile: Any) -> Any:
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = hostile
    return body


def _url(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


def _failure(response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {response.get_data(as_text=True)[:200]}"
    if response.status_code >= 400 and not response.content_type.startswith("application/problem+json"):
        return f"{response.status_code} not a problem"
    return None


def test_every_operation_survives_every_kind_of_hostile_value(client, admin):
    spec = client.get("/api/v1/openapi.json").get_json()
    sent, failures = 0, []
    for template, operations in sorted(spec["paths"].items()):
        for method, operation in sorted(operations.items()):
            parameters = operation.get("parameters", [])
            path_names = [p["name"] for p in parameters if p["in"] == "path"]
            query_names = [p["name"] for p in parameters if p["in"] == "query"]
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            body = _baseline(spec, schema) if schema else None
            base = _url(template, dict.fromkeys(path_names, "x"))

            def send(url, payload=None, raw=None, what=None, method=method):
                nonlocal sent
                sent += 1
                if raw is not None:
                    response = client.open(url, method=method.upper(), headers=admin, data=raw,
                                           content_type="application/json")
                elif payload is not None:
                    response = client.open(url, method=method.upper(), headers=admin, json=payload)
                else:
                    response = client.open(url, method=method.upper(), headers=admin)
                if failure := _failure(response):
                    failures.append((what, failure))

            for name in path_names:
                for kind, value in HOSTILE_PATH.items():
                    url = _url(template, {**dict.fromkeys(path_names, "x"), name: value})
                    send(url, body, what=(method, template, name, kind))
            for name in query_names:
                for kind, value in HOSTILE_QUERY.items():
                    send(f"{base}?{name}={value}", body, what=(method, template, name, kind))
            if body is not None:
                send(base, body, what=(method, template, "baseline"))
                for field in _field_paths(body):
                    for kind, value in HOSTILE_JSON.items():
                        send(base, _with(body, field, value), what=(method, template, field, kind))
                for raw in (DEEP, DEEP_OBJECT):
                    send(base, raw=raw, what=(method, template, "deep"))
    assert failures == [], sorted({(what[0], what[1], what[-1]) for what, _ in failures})
    assert sent > 1000  # the sweep really covered the document


# ---------------------------------------------------------------- focused, one kind each


def _fields(response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.get_json()["errors"]]


def test_a_paging_offset_of_2_63_is_a_400_naming_the_cursor(client, admin):
    response = client.get(f"/api/v1/evaluations?cursor={CURSOR_2_63}", headers=admin)
    assert response.status_code == 400 and _fields(response) == ["cursor"]
    response = client.get(f"/api/v1/evaluations?limit={2**63}", headers=admin)
    assert response.status_code == 400 and _fields(response) == ["limit"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_days_at_the_ends_of_the_calendar_are_a_400_naming_the_field(client, admin, day):
    for url, field in ((f"/api/v1/metrics?from={day}&to=2026-01-05", "from"),
                       (f"/api/v1/metrics?from=2026-01-05&to={day}", "to"),
                       (f"/api/v1/forecasts?to={day}", "to"),
                       (f"/api/v1/agents/a1/performance?from={day}&to={day}", "from")):
        response = client.get(url, headers=admin)
        assert response.status_code == 400, (url, response.get_json())
        assert field in _fields(response), url


def test_a_deeply_nested_body_is_a_400(client, admin):
    for raw in (DEEP, DEEP_OBJECT):  # past the parser's own stack
        response = client.post("/api/v1/calibrations", headers=admin, data=raw,
                               content_type="application/json")
        assert response.status_code == 400 and _fields(response) == ["_body"], raw[:10]
    # parsed, but deeper than any body of this API: named down to where the limit was passed
    nested = '{"name": ' + "[" * 40 + "]" * 40 + "}"
    response = client.post("/api/v1/calibrations", headers=admin, data=nested,
                           content_type="application/json")
    assert response.status_code == 400 and _fields(response)[0].startswith("name.0.0.0")


def test_nul_and_lone_surrogates_are_refused_naming_the_field(client, admin, db):
    from extension.platform.models.audit import AuditEntry

    response = client.put("/api/v1/phrase-lists/compliance", headers=admin,
                          data='{"phrases": ["fine", "bad\\u0000"], "name": "\\ud800"}',
                          content_type="application/json")
    assert response.status_code == 422 and set(_fields(response)) == {"phrases.1", "name"}
    response = client.get("/api/v1/evaluations?agent_id=a%00b", headers=admin)
    assert response.status_code == 400 and _fields(response) == ["agent_id"]
    response = client.get("/api/v1/evaluations/a%00b", headers=admin)
    assert response.status_code == 400 and _fields(response) == ["evaluation_id"]
    with db.session() as session:
        assert session.query(AuditEntry).filter(AuditEntry.action.like("phrase%")).count() == 0


def test_huge_integers_in_json_ids_are_a_422_naming_the_field(client, admin):
    response = client.post("/api/v1/evaluations", headers=admin,
                           json={"conversation_id": HUGE, "agent_id": "a1", "form_id": "f"})
    assert response.status_code == 422 and "conversation_id" in _fields(response)
    response = client.put("/api/v1/workload/caps/qa1", headers=admin, json={"daily_cap": 10**30})
    assert response.status_code == 422 and _fields(response) == ["daily_cap"]
