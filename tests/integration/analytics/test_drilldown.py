"""GET /api/v1/interactions: the facts behind a KPI cell, equal in number to the cell's volume in
/api/v1/metrics, cursor-paged, scoped by role, tenant-isolated, and strict about its input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from extension.analytics import facts as analytics
from extension.analytics.api import schemas
from tests.integration.analytics.conftest import RANGE

URL = "/api/v1/interactions"


def drill(client, headers, **params) -> tuple[list[dict], int]:
    """Every item of a drill-down, following cursors; and the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(URL, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert not schemas.InteractionsPage().validate(body)
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def cells(client, headers, **params) -> list[dict]:
    response = client.get("/api/v1/metrics", headers=headers,
                          query_string={**RANGE, "metrics": "aht_s", "limit": 1000, **params})
    assert response.status_code == 200
    return response.get_json()["items"]


def test_each_weekly_cell_of_an_agent_drills_down_to_exactly_its_volume(client, loaded, token_for):
    headers = token_for("mgr", "manager")
    rows = [r for r in cells(client, headers, dims="agent_id,channel", period="week", agent_id="a01")
            if r["channel"] is not None]
    assert len(rows) >= 8
    for row in rows:
        items, pages = drill(client, headers, agent="a01", channel=row["channel"], period="week",
                             period_start=row["period_start"], limit=3)
        assert len(items) == row["metrics"]["volume"], row
        assert len({i["conversation_id"] for i in items}) == len(items)
        start = date.fromisoformat(row["period_start"])
        assert all(start <= date.fromisoformat(i["local_day"]) < start + timedelta(days=7) for i in items)
        assert {(i["agent_id"], i["channel"]) for i in items} == {("a01", row["channel"])}
        assert pages == max(1, -(-len(items) // 3))


@pytest.mark.parametrize("period", ["day", "month", "quarter"])
def test_local_periods_across_the_dst_change_match_the_metrics_cells(client, loaded, token_for, period):
    headers = token_for("mgr", "manager")
    interval = {"from": "2025-03-28", "to": "2025-04-02"}
    rows = cells(client, headers, dims="channel,inquiry", period=period, **interval)
    assert rows
    for row in rows:
        params = {"period": period, "period_start": row["period_start"], **interval, "limit": 1000}
        params.update({name: row[name] for name in ("channel", "inquiry") if row[name] is not None})
        nulls = [name for name in ("channel", "inquiry") if row[name] is None]
        items, _ = drill(client, headers, **params, **({"null": ",".join(nulls)} if nulls else {}))
        assert len(items) == row["metrics"]["volume"], row
        assert {(i["channel"], i["inquiry"]) for i in items} == {(row["channel"], row["inquiry"])}


def test_a_cell_without_queue_or_wrapup_drills_down_with_the_null_marker(client, db, loaded, token_for):
    with db.session() as session:  # live interactions without a wrap-up code, or without a queue
        analytics.upsert_facts(session, tenant_id=loaded, records=[{
            "conversation_id": f"bare-{i}", "agent_id": "a03", "team_id": "t3", "channel": "chat",
            "queue_id": None if i % 2 else "q-billing", "inquiry": None if i % 3 else "billing",
            "ended_at": datetime(2025, 5, 1 + i, 12, tzinfo=UTC), "t_handle_ms": 90000} for i in range(6)])
    headers = token_for("mgr", "manager")
    rows = cells(client, headers, dims="agent_id,queue_id,inquiry", period="month", agent_id="a03")
    empty = [r for r in rows if r["queue_id"] is None or r["inquiry"] is None]
    assert empty
    for row in empty:
        nulls = ",".join(n for n, d in (("queue", "queue_id"), ("inquiry", "inquiry")) if row[d] is None)
        given = {n: row[d] for n, d in (("queue", "queue_id"), ("inquiry", "inquiry")) if row[d] is not None}
        items, _ = drill(client, headers, agent="a03", null=nulls, period="month",
                         period_start=row["period_start"], limit=1000, **given)
        assert len(items) == row["metrics"]["volume"] > 0, row
        assert {(i["queue_id"], i["inquiry"]) for i in items} == {(row["queue_id"], row["inquiry"])}
    assert sum(r["metrics"]["volume"] for r in empty) == 5  # every bare interaction, once


def test_a_supervisor_drills_into_their_team_and_an_agent_sees_only_themselves(client, loaded, token_for):
    supervisor = token_for("sup-t2", "supervisor")
    (row,) = cells(client, supervisor, dims="team_id", period="month", team_id="t2",
                   **{"from": "2025-03-01", "to": "2025-03-31"})
    items, _ = drill(client, supervisor, team="t2", period="month", period_start="2025-03-01", limit=1000)
    assert len(items) == row["metrics"]["volume"] > 0
    assert {i["team_id"] for i in items} == {"t2"}
    assert client.get(URL, headers=supervisor, query_string={"team": "t1"}).status_code == 403
    agent = token_for("a01", "agent")
    mine, _ = drill(client, agent, limit=1000, **RANGE)
    assert mine and {i["agent_id"] for i in mine} == {"a01"}
    assert client.get(URL, headers=agent, query_string={"agent": "a02"}).status_code == 403


def test_another_tenant_sees_none_of_these_interactions(client, loaded, other_tenant, token_for):
    headers = token_for("adm", "admin", tenant_id=other_tenant)  # same person ids, other tenant
    items, _ = drill(client, headers, agent="a01", limit=1000, **RANGE)
    assert items == []
    assert client.get(URL, headers=headers, query_string={"team": "t-none"}).status_code == 404
    missing = client.get(URL, headers=token_for("adm", "admin"), query_string={"agent": "nobody"})
    assert missing.status_code == 404


@pytest.mark.parametrize(("params", "field"), [
    ({"period": "year", "period_start": "2025-03-01"}, "period"),
    ({"period": "week", "period_start": "2025-03-05"}, "period_start"),
    ({"period": "month", "period_start": "2025-03-02"}, "period_start"),
    ({"period_start": "not-a-date"}, "period_start"),
    ({"period": "week", "period_start": "2025-03-03", "from": "2025-04-01"}, "from"),
    ({"cursor": "garbage"}, "cursor"),
    ({"null": "wrapup"}, "null"),
    ({"inquiry": "billing", "null": "inquiry"}, "null"),
    ({"limit": "0"}, "limit"),
    ({"from": "2025-04-02", "to": "2025-04-01"}, "to"),
])
def test_bad_parameters_are_problems_naming_the_field(client, loaded, token_for, params, field):
    response = client.get(URL, headers=token_for("mgr", "manager"), query_string=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.get_json()["errors"]]
