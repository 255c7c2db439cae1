"""The agent directory page: scope, filter, search, sort, paging, coaching status, the same
figures as the agent's performance API, bad input and German."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.numbers import format_decimal

from extension.coaching.models import Appointment, Flag
from tests.factories import panel_session
from tests.integration.analytics.conftest import loaded, records, token_for  # noqa: F401 (fixtures)

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
# the generated data runs 15 March - 14 April 2025: the previous interval has figures too
WINDOW = {"from": "2025-03-31", "to": "2025-04-14"}
TEAM_T2 = [f"a{i:02d}" for i in range(40) if i % 4 == 1]


def directory(client, **params):
    return client.get("/t/acme/panels/agents", query_string={**WINDOW, **params}, headers=FRAME)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-agent="([^"]+)">', html)


def all_rows(client, **params) -> list[str]:
    seen, number = [], 1
    while True:
        html = directory(client, page=number, **params).get_data(as_text=True)
        seen += rows(html)
        if 'rel="next"' not in html:
            return seen
        number += 1


def cells(html: str, agent: str) -> list[str]:
    row = re.search(rf'<tr data-agent="{agent}">(.*?)</tr>', html, re.S).group(1)
    texts = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", t)).replace("&nbsp;", " ").strip() for t in texts]


@pytest.fixture
def coaching(db, loaded):  # noqa: F811 (the fixture imported above)
    """Open flags for a01 (two) and a05, a flag already picked up by an appointment for a09,
    and a booked appointment for a01 next week."""
    soon = datetime.now(UTC) + timedelta(days=7)
    with db.session() as session:
        booked = Appointment(tenant_id="acme", agent_id="a01", week_key="2099-W01", idempotency_key="k1",
                             status="booked", date_start=soon)
        done = Appointment(tenant_id="acme", agent_id="a09", week_key="2099-W02", idempotency_key="k2",
                           status="booked", date_start=soon - timedelta(days=30))
        session.add_all([booked, done])
        session.flush()
        at = datetime(2025, 4, 1, tzinfo=UTC)
        session.add_all([Flag(tenant_id="acme", conversation_id=f"c{k}", agent_id=agent, rule_id="r",
                              action="flag", at=at, appointment_id=appointment)
                         for k, (agent, appointment) in enumerate(
                             [("a01", None), ("a01", None), ("a05", None), ("a09", done.id)])]
                        + [Flag(tenant_id="acme", conversation_id="c9", agent_id="a13", rule_id="r",
                                action="recognize", at=at)])
    return soon


def test_an_agent_may_not_open_the_directory(app, client, loaded):  # noqa: F811
    panel_session(app, client, "a01")
    answer = client.get("/t/acme/panels/agents", headers={**FRAME, "Accept": "text/html"})
    assert answer.status_code == 403 and "Agent" in answer.get_data(as_text=True)


def test_a_supervisor_sees_only_their_team(app, client, loaded):  # noqa: F811
    panel_session(app, client, "sup-t2")
    html = directory(client).get_data(as_text=True)
    assert "10 of 10 agents" in html
    assert sorted(all_rows(client)) == TEAM_T2


def test_a_manager_pages_through_every_agent_25_at_a_time(app, client, loaded):  # noqa: F811
    panel_session(app, client, "mgr")
    first = directory(client).get_data(as_text=True)
    second = directory(client, page=2).get_data(as_text=True)
    assert "40 of 40 agents" in first and "Page 1 of 2" in first and "Page 2 of 2" in second
    assert len(rows(first)) == 25 and len(rows(second)) == 15
    assert sorted(rows(first) + rows(second)) == [f"a{i:02d}" for i in range(40)]
    assert "page=2" in re.search(r'rel="next"[^>]*>', first).group(0)


def test_search_by_name(app, client, loaded):  # noqa: F811
    panel_session(app, client, "mgr")
    assert rows(directory(client, q="agent A01").get_data(as_text=True)) == ["a01"]
    assert sorted(rows(directory(client, q="a1").get_data(as_text=True))) == [f"a1{i}" for i in range(10)]
    nothing = directory(client, q="zz").get_data(as_text=True)
    assert rows(nothing) == [] and "No agent matches." in nothing


def test_sort_by_volume_and_by_name_both_ways(app, client, loaded):  # noqa: F811
    panel_session(app, client, "mgr")
    html = directory(client, sort="volume", dir="desc").get_data(as_text=True)
    volumes = [int(cells(html, agent)[2].replace(",", "")) for agent in rows(html)]
    assert volumes == sorted(volumes, reverse=True) and volumes[0] > volumes[-1]
    names = rows(directory(client, sort="name", dir="desc", q="a0").get_data(as_text=True))
    assert names == sorted(names, reverse=True)


def test_the_figures_are_the_performance_apis(app, client, loaded, token_for):  # noqa: F811
    panel_session(app, client, "sup-t2")
    html = directory(client).get_data(as_text=True)
    body = client.get("/api/v1/agents/a05/performance", query_string=WINDOW,
                      headers=token_for("sup-t2", "supervisor")).get_json()
    _name, aes, volume, qa, *_ = cells(html, "a05")
    assert aes == format_decimal(body["kpis"]["aes"], "#,##0.0", locale="en") + " s"
    assert volume == f"{body['kpis']['volume']:,}"
    assert qa.startswith(format_decimal(body["kpis"]["qa"], "#,##0.00", locale="en")) and "(n = " in qa
    assert '/t/acme/panels/interactions?agent=a05&amp;from=2025-03-31&amp;to=2025-04-14' in html
    assert '/t/acme/panels/agents/a05?from=2025-03-31&amp;to=2025-04-14' in html


def test_coaching_status_and_the_needs_coaching_filter(app, client, coaching):
    panel_session(app, client, "mgr")
    html = directory(client).get_data(as_text=True)
    assert cells(html, "a01")[5] == "2" and cells(html, "a05")[5] == "1"
    assert cells(html, "a09")[5] == "0" and cells(html, "a13")[5] == "0"
    assert cells(html, "a01")[6] != "none booked" and cells(html, "a05")[6] == "none booked"
    needing = set(all_rows(client, show="needs-coaching"))
    everyone = all_rows(client)
    assert {"a01", "a05"} <= needing < set(everyone)
    for agent in everyone:  # needs coaching = open flags or a declining trend, nobody else
        row = cells(directory(client, q=agent).get_data(as_text=True), agent)
        assert (agent in needing) == (row[5] != "0" or "Declining" in row[4])
    assert "Needs coaching" in cells(html, "a01")[0]


def test_the_improving_filter_shows_only_improving_agents(app, client, loaded):  # noqa: F811
    panel_session(app, client, "mgr")
    everyone = directory(client, q="").get_data(as_text=True)
    trends = {agent: cells(everyone, agent)[4] for agent in rows(everyone)}
    improving = all_rows(client, show="improving")
    assert improving and all("Improving" in cells(directory(client, q=a).get_data(as_text=True), a)[4]
                             for a in improving)
    assert not any("Improving" in trend for agent, trend in trends.items() if agent not in improving)


def test_a_filter_state_is_a_url_that_loads_whole_and_as_a_partial(app, client, loaded):  # noqa: F811
    headers = panel_session(app, client, "mgr")
    whole = directory(client, show="improving", sort="aes").get_data(as_text=True)
    partial = client.get("/t/acme/panels/agents", query_string={**WINDOW, "show": "improving", "sort": "aes"},
                         headers=headers).get_data(as_text=True)
    assert "<html" in whole and "<html" not in partial
    assert rows(whole) == rows(partial)
    assert 'hx-push-url="true"' in partial


@pytest.mark.parametrize("params, name", [({"page": "0"}, "page"), ({"page": "two"}, "page"),
                                          ({"sort": "luck"}, "sort"), ({"show": "best"}, "show"),
                                          ({"dir": "sideways"}, "dir"), ({"from": "2025-02-30"}, "from")])
def test_bad_parameters_answer_a_400_page_naming_them(app, client, loaded, params, name):  # noqa: F811
    panel_session(app, client, "mgr")
    answer = client.get("/t/acme/panels/agents", query_string={**WINDOW, **params},
                        headers={**FRAME, "Accept": "text/html"})
    assert answer.status_code == 400
    assert f"Invalid query parameter &#39;{name}&#39;" in answer.get_data(as_text=True)


def test_the_directory_in_german(app, client, loaded):  # noqa: F811
    panel_session(app, client, "sup-t2")
    html = directory(client, gcLangTag="de-DE").get_data(as_text=True)
    assert "Nach Namen suchen" in html and "10 von 10 Agenten" in html
