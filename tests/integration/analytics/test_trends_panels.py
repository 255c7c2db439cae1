"""The trends panel and the drill-down list: the table carries /api/v1/metrics' numbers with
their n, each row drills down to exactly its volume of interactions, the weekly forecast is
marked as such, scope holds (an agent sees only themselves), bad input is a 400 page naming the
parameter, and the page speaks German when the console does."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.factories import panel_session
from tests.integration.analytics.conftest import RANGE

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Accept": "text/html"}
ROW = re.compile(r'<tr data-period-start="([^"]+)">.*?data-value="([^"]*)".*?data-volume="(\d+)".*?'
                 r'<a href="([^"]+)" data-testid="drill">', re.S)


def trend_rows(page: str) -> list[dict]:
    return [{"period_start": start, "value": float(value) if value else None, "volume": int(volume),
             "href": html.unescape(href)} for start, value, volume, href in ROW.findall(page)]


def api_rows(client, headers, **params) -> list[dict]:
    answer = client.get("/api/v1/metrics", headers=headers, query_string={**RANGE, "limit": 1000, **params})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"]


def count_of(page: str) -> int:
    found = re.search(r'data-testid="count">(\d[\d,.]*) ', page)
    assert found, page[:2000]
    return int(re.sub(r"[,.]", "", found.group(1)))


@pytest.mark.parametrize("metric, period", [("aht_s", "week"), ("csat", "month"), ("fcr_rate", "quarter")])
def test_an_agents_trend_equals_the_metrics_api(app, client, loaded, token_for, metric, period):
    panel_session(app, client, "mgr")
    answer = client.get("/t/acme/panels/trends", headers=FRAME, query_string={
        **RANGE, "metric": metric, "period": period, "level": "agent", "id": "a01"})
    assert answer.status_code == 200
    rows = trend_rows(answer.get_data(as_text=True))
    expected = api_rows(client, token_for("mgr", "manager"), dims="agent_id", agent_id="a01",
                        period=period, metrics=metric)
    assert len(rows) == len(expected) >= 3
    for row, cell in zip(rows, expected, strict=True):
        assert row["period_start"] == cell["period_start"]
        assert row["volume"] == cell["metrics"]["volume"]
        assert row["value"] == pytest.approx(cell["metrics"][metric])


def test_a_supervisors_team_trend_equals_the_api_and_each_row_drills_down_to_its_volume(
        app, client, loaded, token_for):
    headers = panel_session(app, client, "sup-t2")
    answer = client.get("/t/acme/panels/trends", headers=FRAME, query_string={
        "from": "2025-03-01", "to": "2025-04-30", "metric": "aes", "period": "week", "level": "team",
        "id": "t2"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    rows = trend_rows(page)
    expected = api_rows(client, token_for("sup-t2", "supervisor"), dims="team_id", team_id="t2",
                        period="week", metrics="aes", **{"from": "2025-03-01", "to": "2025-04-30"})
    assert [(r["period_start"], r["volume"]) for r in rows] == [
        (c["period_start"], c["metrics"]["volume"]) for c in expected]
    for row in rows[:4]:
        listing = client.get(row["href"], headers=FRAME)
        assert listing.status_code == 200, row["href"]
        assert count_of(listing.get_data(as_text=True)) == row["volume"]
    # every row of one cell, following "More" (htmx) to the end
    row = max(rows, key=lambda r: r["volume"])
    listing = client.get(row["href"], headers=FRAME).get_data(as_text=True)
    seen = re.findall(r'<tr data-conversation="([^"]+)"', listing)
    more = re.search(r'hx-get="([^"]+)"', listing)
    while more:
        part = client.get(html.unescape(more.group(1)), headers=headers).get_data(as_text=True)
        assert "<html" not in part
        seen += re.findall(r'<tr data-conversation="([^"]+)"', part)
        more = re.search(r'hx-get="([^"]+)"', part)
    assert len(seen) == len(set(seen)) == row["volume"] > 25


def test_the_chart_data_matches_the_table_and_a_weekly_series_carries_a_marked_forecast(
        app, client, loaded):
    panel_session(app, client, "sup-t2")
    answer = client.get("/t/acme/panels/trends", headers=FRAME, query_string={
        "from": "2025-03-01", "to": "2025-04-27", "metric": "aht_s", "period": "week",
        "level": "agent", "id": "a01"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    block = r'<script type="application/json" id="trend-data" nonce="[^"]+">(.*?)</script>'
    data = json.loads(re.search(block, page, re.S).group(1))
    rows = trend_rows(page)
    assert data["volumes"] == [r["volume"] for r in rows]
    assert data["urls"] == [r["href"] for r in rows]
    assert data["values"][:len(rows)] == pytest.approx([r["value"] for r in rows])
    forecast = page.count("data-forecast")
    assert forecast == 4 and "Forecast:" in page and "Forecast rows are predictions" in page
    assert len(data["labels"]) == len(rows) + 4
    assert all(lo <= hi for lo, hi in zip(data["lo"][len(rows):], data["hi"][len(rows):], strict=True))
    assert "vendor/echarts/echarts.min.js" in page and "charts.js" in page


def test_an_agent_sees_their_own_trend_and_nobody_elses(app, client, loaded):
    panel_session(app, client, "a01")
    own = client.get("/t/acme/panels/trends", headers=FRAME, query_string=RANGE)
    assert own.status_code == 200 and trend_rows(own.get_data(as_text=True))
    assert 'value="a02"' not in own.get_data(as_text=True)
    other = client.get("/t/acme/panels/trends", headers=FRAME, query_string={**RANGE, "id": "a02"})
    assert other.status_code == 403
    team = client.get("/t/acme/panels/trends", headers=FRAME,
                      query_string={**RANGE, "level": "team", "id": "t2"})
    assert team.status_code == 403
    listing = client.get("/t/acme/panels/interactions", headers=FRAME, query_string={**RANGE, "agent": "a02"})
    assert listing.status_code == 403
    mine = client.get("/t/acme/panels/interactions", headers=FRAME, query_string={**RANGE, "agent": "a01"})
    assert mine.status_code == 200 and count_of(mine.get_data(as_text=True)) > 0


def test_a_supervisor_cannot_open_another_teams_trend_or_list(app, client, loaded):
    panel_session(app, client, "sup-t2")
    assert client.get("/t/acme/panels/trends", headers=FRAME,
                      query_string={**RANGE, "level": "team", "id": "t3"}).status_code == 403
    assert client.get("/t/acme/panels/trends", headers=FRAME,
                      query_string={**RANGE, "level": "agent", "id": "a02"}).status_code == 403
    assert client.get("/t/acme/panels/trends", headers=FRAME,
                      query_string={**RANGE, "level": "agent", "id": "nobody"}).status_code == 404
    assert client.get("/t/acme/panels/interactions", headers=FRAME,
                      query_string={**RANGE, "team": "t3"}).status_code == 403
    # an unpinned list is the supervisor's own scope only
    page = client.get("/t/acme/panels/interactions", headers=FRAME, query_string={
        "from": "2025-04-01", "to": "2025-04-07", "limit": 1000}).get_data(as_text=True)
    agents = set(re.findall(r"<td>Agent (a\d\d)</td>", page))
    assert agents and all(int(a[1:]) % 4 == 1 for a in agents)


@pytest.mark.parametrize("path, params, named", [
    ("trends", {"metric": "bogus"}, "metric"),
    ("trends", {"period": "fortnight"}, "period"),
    ("trends", {"from": "2025-13-01"}, "from"),
    ("trends", {"from": "2025-05-01", "to": "2025-04-01"}, "from"),
    ("trends", {"level": "planet"}, "level"),
    ("interactions", {"period": "week", "period_start": "2025-09-02"}, "period_start"),
    ("interactions", {"limit": "0"}, "limit"),
    ("interactions", {"cursor": "not-a-cursor"}, "cursor"),
    ("interactions", {"channel": "chat", "null": "channel"}, "null"),
])
def test_a_bad_parameter_is_a_400_page_naming_it(app, client, loaded, path, params, named):
    panel_session(app, client, "mgr")
    answer = client.get(f"/t/acme/panels/{path}", headers=FRAME, query_string=params)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert named in page and "Content-Security-Policy" in answer.headers


def test_the_list_says_its_filters_in_words(app, client, loaded):
    panel_session(app, client, "mgr")
    answer = client.get("/t/acme/panels/interactions", headers=FRAME, query_string={
        "agent": "a01", "channel": "voice", "period": "month", "period_start": "2025-04-01"})
    page = answer.get_data(as_text=True)
    filters = re.search(r'data-testid="filters">(.*?)</dl>', page, re.S).group(1)
    for word in ("Agent", "Agent a01", "Channel", "voice", "Month", "2025-04 (Apr 1, 2025)", "Apr 30, 2025"):
        assert word in filters, (word, filters)
    assert re.search(r'href="/t/acme/panels/interactions/[^"]+" data-testid="open-interaction"', page)


def test_the_trends_page_speaks_german(app, client, loaded):
    panel_session(app, client, "mgr")
    answer = client.get("/t/acme/panels/trends", headers=FRAME, query_string={
        **RANGE, "gcLangTag": "de-DE", "level": "agent", "id": "a01", "metric": "transfer_rate"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and '<html lang="de">' in page
    assert "Kennzahl" in page and "Transferquote" in page and "Interaktionen (n)" in page
    assert "gcLangTag=de-DE" in page  # the drill-down keeps the language
    assert re.search(r"\d,\d\s%", page)  # a German percentage
    listing = client.get("/t/acme/panels/interactions", headers=FRAME, query_string={
        **RANGE, "gcLangTag": "de-DE", "agent": "a01"}).get_data(as_text=True)
    assert "Interaktionen" in listing and "Kanal" in listing
