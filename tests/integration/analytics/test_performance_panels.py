"""The agent overview, my performance and inquiry details pages: scope, the same figures as
GET /api/v1/agents/<id>/performance, quartile words, links to the interactions, bad input, German."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from babel.numbers import format_decimal
from sqlalchemy import select

from extension.analytics.models.facts import InteractionFact
from tests.factories import panel_session

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
WINDOW = {"from": "2025-03-15", "to": "2025-04-14"}


def page(client, url: str, **params):
    return client.get(url, query_string={**WINDOW, **params}, headers=FRAME)


def api(client, token_for, agent: str, person: str, role: str) -> dict:
    answer = client.get(f"/api/v1/agents/{agent}/performance", query_string=WINDOW,
                        headers=token_for(person, role))
    assert answer.status_code == 200
    return answer.get_json()


def row_of(html: str, metric: str) -> str:
    found = re.search(rf'<tr data-metric="{metric}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, metric
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1))).replace("\xa0", " ")


def seconds(value: float) -> str:
    return format_decimal(value, "#,##0.0", locale="en") + " s"


def test_a_supervisor_sees_their_agent_with_the_apis_figures(app, client, loaded, token_for):
    panel_session(app, client, "sup-t2")
    answer = page(client, "/t/acme/panels/agents/a01")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    body = api(client, token_for, "a01", "sup-t2", "supervisor")
    aes = row_of(html, "aes")
    assert seconds(body["kpis"]["aes"]) in aes
    assert f"n = {body['kpis']['volume']:,}" in aes
    assert seconds(body["team"]["aes"]["team_average"]) in aes
    assert seconds(body["team"]["aes"]["top_value"]) in aes
    assert f"{body['kpis']['volume']:,} interactions" in html


def test_the_top_and_bottom_inquiries_are_the_apis_in_its_order(app, client, loaded, token_for):
    panel_session(app, client, "sup-t2")
    html = page(client, "/t/acme/panels/agents/a01").get_data(as_text=True)
    body = api(client, token_for, "a01", "sup-t2", "supervisor")
    for side in ("top", "bottom"):
        listed = re.search(rf'data-testid="{side}">(.*?)</ol>', html, re.S)
        expected = [r["inquiry"] for r in body["impact"][side]]
        if not expected:
            assert listed is None
            continue
        assert listed is not None
        assert re.findall(r"<h3><a [^>]*>([^<]+)</a></h3>", listed.group(1)) == expected


def test_quartile_words_with_icons_and_links_to_the_interactions(app, client, loaded, token_for):
    panel_session(app, client, "sup-t2")
    html = page(client, "/t/acme/panels/agents/a01").get_data(as_text=True)
    body = api(client, token_for, "a01", "sup-t2", "supervisor")
    for label in {q["label"] for q in body["quartiles"]}:
        assert re.search(rf'<span aria-hidden="true">.</span> {label}</span>', html)
    assert "/t/acme/panels/interactions?agent=a01&amp;inquiry=billing&amp;from=2025-03-15" in html
    assert "/t/acme/panels/agents/a01/inquiries/billing?from=2025-03-15&amp;to=2025-04-14" in html
    assert 'data-testid="plan"' in html and "/t/acme/panels/agents/a01/plan" in html


def test_inquiries_sort_by_any_metric(app, client, loaded):
    panel_session(app, client, "mgr")
    for metric, direction in (("csat", "desc"), ("aht_s", "asc"), ("inquiry", "asc")):
        html = page(client, "/t/acme/panels/agents/a03", sort=metric, dir=direction).get_data(as_text=True)
        table = re.search(r'data-testid="inquiries">(.*?)</table>', html, re.S).group(1)
        names = re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a></th>', table)
        assert len(names) == 5
        if metric == "inquiry":
            assert names == sorted(names)
        assert 'aria-sort="ascending"' in table if direction == "asc" else 'aria-sort="descending"' in table


def test_the_sort_order_follows_the_values(app, client, loaded, token_for):
    panel_session(app, client, "mgr")
    body = api(client, token_for, "a03", "mgr", "manager")
    expected = [r["inquiry"] for r in sorted(body["inquiries"], key=lambda r: -r["csat"])]
    html = page(client, "/t/acme/panels/agents/a03", sort="csat", dir="desc").get_data(as_text=True)
    table = re.search(r'data-testid="inquiries">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a></th>', table) == expected


def test_a_supervisor_gets_404_for_another_teams_agent(app, client, loaded):
    panel_session(app, client, "sup-t1")
    assert page(client, "/t/acme/panels/agents/a01").status_code == 404
    assert page(client, "/t/acme/panels/agents/a01/inquiries/billing").status_code == 404


def test_an_agent_sees_only_their_own_performance(app, client, loaded, token_for):
    panel_session(app, client, "a01")
    mine = page(client, "/t/acme/panels/my-performance")
    html = mine.get_data(as_text=True)
    assert mine.status_code == 200 and "My performance" in html
    body = api(client, token_for, "a01", "a01", "agent")
    assert seconds(body["kpis"]["aes"]) in row_of(html, "aes")
    assert 'data-testid="plan"' not in html  # the coaching plan entry is not for the agent
    assert "/t/acme/panels/my-performance/inquiries/billing" in html
    assert page(client, "/t/acme/panels/agents/a01").status_code == 200
    assert page(client, "/t/acme/panels/agents/a02").status_code == 404
    assert page(client, "/t/acme/panels/agents/a02/inquiries/billing").status_code == 404
    assert page(client, "/t/acme/panels/agents/nobody").status_code == 404


def test_the_inquiry_page_shows_the_focus_and_the_last_ten_interactions(app, client, loaded, token_for, db):
    panel_session(app, client, "sup-t2")
    answer = page(client, "/t/acme/panels/agents/a01/inquiries/tech")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    body = api(client, token_for, "a01", "sup-t2", "supervisor")
    tech = next(r for r in body["inquiries"] if r["inquiry"] == "tech")
    focus = re.search(r'data-testid="focus">(.*?)</section>', html, re.S).group(1)
    if tech["focus"]:
        assert f'<tr data-metric="{tech["focus"]["metric"]}" class="cw-focus">' in html
    else:
        assert "Nothing stands out" in focus
    assert seconds(tech["aes"]) in row_of(html, "aes")
    with db.session() as session:
        f = InteractionFact
        latest = list(session.scalars(
            select(f.conversation_id).where(f.tenant_id == "acme", f.agent_id == "a01", f.inquiry == "tech",
                                            f.local_day >= date.fromisoformat(WINDOW["from"]),
                                            f.local_day <= date.fromisoformat(WINDOW["to"]))
            .order_by(f.ended_at.desc(), f.conversation_id.desc()).limit(10)))
    shown = re.findall(r'href="/t/acme/panels/interactions/([^"?]+)" data-testid="interaction-link"', html)
    assert shown == latest and len(shown) == 10
    assert html.count("<details>") == 10


def test_my_performance_has_the_same_inquiry_page(app, client, loaded):
    panel_session(app, client, "a01")
    answer = page(client, "/t/acme/panels/my-performance/inquiries/billing")
    assert answer.status_code == 200 and 'data-testid="examples"' in answer.get_data(as_text=True)
    assert page(client, "/t/acme/panels/my-performance/inquiries/nonsense").status_code == 404


@pytest.mark.parametrize("params, name", [({"from": "2025-13-01"}, "from"), ({"to": "yesterday"}, "to"),
                                          ({"range": "decade"}, "range"), ({"sort": "luck"}, "sort"),
                                          ({"dir": "up"}, "dir"), ({"channel": "fax"}, "channel"),
                                          ({"model": "magic"}, "model"),
                                          ({"from": "2025-04-14", "to": "2025-03-01"}, "from")])
def test_bad_parameters_answer_a_400_page_naming_them(app, client, loaded, params, name):
    panel_session(app, client, "mgr")
    answer = client.get("/t/acme/panels/agents/a01", query_string={**WINDOW, **params},
                        headers={**FRAME, "Accept": "text/html"})
    assert answer.status_code == 400
    assert f"Invalid query parameter &#39;{name}&#39;" in answer.get_data(as_text=True)


def test_a_preset_range_ends_today(app, client, loaded):
    panel_session(app, client, "mgr")
    html = client.get("/t/acme/panels/agents/a01", query_string={"range": "week"},
                      headers=FRAME).get_data(as_text=True)
    assert '<option value="week" selected>' in html and "0 interactions" in html


def test_a_channel_narrows_the_labels_and_their_links(app, client, loaded):
    panel_session(app, client, "mgr")
    html = page(client, "/t/acme/panels/agents/a01", channel="voice").get_data(as_text=True)
    table = re.search(r'data-testid="inquiries">(.*?)</table>', html, re.S).group(1)
    assert "voice:" in table and "chat:" not in table


def test_an_htmx_request_gets_only_the_results(app, client, loaded):
    headers = panel_session(app, client, "mgr")
    answer = client.get("/t/acme/panels/agents/a01", query_string={**WINDOW, "sort": "qa"}, headers=headers)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and html.lstrip().startswith('<div id="results"')
    assert "<html" not in html


def test_the_page_in_german(app, client, loaded):
    panel_session(app, client, "sup-t2")
    html = page(client, "/t/acme/panels/agents/a01", gcLangTag="de-DE").get_data(as_text=True)
    assert "Alle Anfragen nach Volumen" in html and "Angemeldet als" in html
    assert re.search(r"\d+,\d\xa0s|\d+,\d&nbsp;s", html)  # German decimal comma


def test_an_agent_without_interactions_gets_an_empty_overview_not_an_error(app, client, loaded):
    panel_session(app, client, "mgr")
    answer = page(client, "/t/acme/panels/agents/a39")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "0 interactions" in html
    assert "No interactions in this interval." in html and "no data" in row_of(html, "aes")


def test_an_inquiry_name_with_a_slash_and_spaces_has_a_working_link(app, client, db, loaded):
    from extension.analytics import facts

    with db.session() as session:
        session.execute(InteractionFact.__table__.update().where(
            InteractionFact.tenant_id == "acme", InteractionFact.inquiry == "moving")
            .values(inquiry="moving / home"))
        facts.rebuild_rollups(session, tenant_id="acme")
    panel_session(app, client, "mgr")
    html = page(client, "/t/acme/panels/agents/a01").get_data(as_text=True)
    link = "/t/acme/panels/agents/a01/inquiries/moving%20%2F%20home?from=2025-03-15&amp;to=2025-04-14"
    assert link in html
    answer = client.get(unescape(link), headers=FRAME)
    assert answer.status_code == 200
    assert "<h1>moving / home</h1>" in answer.get_data(as_text=True)
