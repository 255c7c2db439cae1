"""The supervisor's team home (extension.coaching.panels.home) through the Flask client: scope,
figures equal to the analytics services with their n, drill-down links, the alert actions
(CSRF-checked and audited), the automation's week and the range validation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from extension.analytics import facts as analytics
from extension.analytics.models.facts import PerformanceAlert
from extension.analytics.query import Slice, sums_by, total
from extension.analytics.sums import summary_from_sums
from extension.coaching.models import Appointment, Flag, Recognition
from extension.platform import audit
from extension.platform.models.audit import AuditEntry
from tests.factories import panel_session
from tests.integration.analytics.conftest import NAMES, PEOPLE
from tests.unit.analytics.generate import generate

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Accept": "text/html"}
WEEK = "range=week&to=2025-04-13"  # 7 to 13 April 2025, compared with 31 March to 6 April
START, END = date(2025, 4, 7), date(2025, 4, 13)
T1 = [p[0] for p in PEOPLE if p[2] == "t1" and p[1] == "agent"]  # sup-t1's agents
T2_AGENT = "a01"  # on team t2


@pytest.fixture(scope="module")
def records():
    """The generated records of the two weeks the tests look at (the current and the previous
    7 days), so that seeding stays quick on PostgreSQL."""
    return [r for r in generate(seed=7) if date(2025, 3, 30) <= r["ended_at"].date() <= date(2025, 4, 14)]


@pytest.fixture
def world(app, db, tenant, records):
    """Tenant acme (Europe/London) with the generated facts, a flag, two alerts, an audited
    booked and a skipped appointment and a recognition, all about sup-t1's agent a04."""
    from tests.factories import add_people

    tenant_id = tenant[0]
    add_people(db, tenant_id, PEOPLE, name=NAMES.get)
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=records)
    flagged = next(r for r in records if r["agent_id"] == "a04" and START <= r["ended_at"].date() <= END)
    with db.session() as session:
        session.add(Flag(tenant_id=tenant_id, conversation_id=flagged["conversation_id"], agent_id="a04",
                         rule_id="negative-sentiment", action="flag", at=flagged["ended_at"],
                         reasons=["customer_sentiment -0.82 < -0.6"]))
        session.add_all([
            PerformanceAlert(tenant_id=tenant_id, key="threshold:agent:a04:aht_s", kind="threshold",
                             subject_type="agent", subject_id="a04", metric="aht_s", value=812.0,
                             message="AHT above 600 s", status="open",
                             raised_at=datetime(2025, 4, 12, 9, tzinfo=UTC)),
            PerformanceAlert(tenant_id=tenant_id, key="threshold:agent:a01:aht_s", kind="threshold",
                             subject_type="agent", subject_id=T2_AGENT, metric="aht_s", value=700.0,
                             message="AHT above 600 s (t2)", status="open",
                             raised_at=datetime(2025, 4, 12, 9, tzinfo=UTC)),
        ])
        booked = Appointment(tenant_id=tenant_id, agent_id="a04", week_key="2026-W50", week_seq=0,
                             idempotency_key="coaching:a04:w:0", status="booked",
                             conversation_ids=[flagged["conversation_id"]],
                             date_start=datetime(2026, 12, 9, 10, tzinfo=UTC))
        session.add(booked)
        session.flush()
        audit.record(session, tenant_id=tenant_id, actor="system:coaching", action="coaching.booked",
                     subject_type="appointment", subject_id=str(booked.id),
                     details={"slot": {"source": "host_slots"}, "calendar_checked": True,
                              "conversation_ids": booked.conversation_ids})
        audit.record(session, tenant_id=tenant_id, actor="system:coaching",
                     action="coaching.skipped.rate_limited", subject_type="agent", subject_id="a08",
                     details={"flags_in_window": 4, "min_flags": 3, "this_week": 1, "cap": 1})
        audit.record(session, tenant_id=tenant_id, actor="system:coaching",
                     action="coaching.skipped.rate_limited", subject_type="agent", subject_id=T2_AGENT,
                     details={"flags_in_window": 9, "min_flags": 3, "this_week": 1, "cap": 1})
        session.add(Recognition(tenant_id=tenant_id, agent_id="a04", conversation_id="c-thanks",
                                idempotency_key="recognition:c-thanks", status="sent",
                                created_at=datetime(2025, 4, 10, 12, tzinfo=UTC)))
    return {"tenant": tenant_id, "flagged": flagged["conversation_id"]}


def _page(app, client, person: str, query: str = WEEK):
    panel_session(app, client, person)
    return client.get(f"/t/acme/panels/home?{query}", headers=FRAME)


def _card(html: str, metric: str) -> str:
    match = re.search(rf'<li class="cw-card" data-metric="{metric}">(.*?)</li>', html, re.S)
    assert match, f"no card for {metric}"
    return match.group(1)


def _cell(html: str, agent: str, metric: str) -> str:
    row = re.search(rf'<tr data-row="{agent}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {agent}"
    cell = re.search(rf'<td data-metric="{metric}">(.*?)</td>', row.group(1), re.S)
    assert cell
    return cell.group(1)


def test_a_supervisor_sees_their_own_team_only(app, client, world):
    answer = _page(app, client, "sup-t1")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    for agent in T1:
        assert f'data-row="{agent}"' in html
    assert "Agent a04" in html
    assert "Agent a01" not in html and 'data-row="a01"' not in html
    assert "AHT above 600 s (t2)" not in html and "AHT above 600 s" in html
    assert html.count('data-kind="skipped"') == 1  # a08's, not a01's


def test_the_strip_equals_the_services_and_carries_n_and_the_trend(app, client, db, world):
    html = _page(app, client, "sup-t1").get_data(as_text=True)
    scope = frozenset([*T1, "sup-t1"])
    with db.session() as session:
        now = total(session, Slice(tenant_id="acme", start=START, end=END, agent_ids=scope))
        before = total(session, Slice(tenant_id="acme", start=date(2025, 3, 31), end=date(2025, 4, 6),
                                      agent_ids=scope))
    kpis, previous = summary_from_sums(now), summary_from_sums(before)
    assert now["volume"] > 0 and now["qa_n"] > 0
    qa = _card(html, "qa")
    assert f"{kpis['qa']:.1f} of 100" in qa and f"n = {now['qa_n']:,}" in qa
    assert f"{previous['qa']:.1f} of 100 (n = {before['qa_n']:,})" in qa
    word = "up" if kpis["qa"] > previous["qa"] else "down"
    assert f"{word} " in qa and "on the previous 7 days" in qa
    assert ("better" if word == "up" else "worse") in qa
    aht = _card(html, "aht_s")
    assert f"{round(kpis['aht_s']):,} s" in aht and f"n = {now['timed']:,}" in aht
    volume = _card(html, "volume")
    assert f">{now['volume']:,}<" in volume
    csat = _card(html, "csat")
    assert f"n = {now['csat_n']:,}" in csat
    # every figure links to the interactions behind it, with the page's interval
    assert "/t/acme/panels/interactions?from=2025-04-07&amp;to=2025-04-13" in qa


def test_each_agent_cell_equals_the_rollups_with_n_and_links(app, client, db, world):
    html = _page(app, client, "sup-t1").get_data(as_text=True)
    with db.session() as session:
        rows = {key[0]: sums for key, sums in sums_by(
            session, Slice(tenant_id="acme", start=START, end=END, agent_ids=T1), dims=("agent_id",))}
    sums = rows["a04"]
    cell = _cell(html, "a04", "aht_s")
    assert f"{round(summary_from_sums(sums)['aht_s']):,} s" in cell and f"n = {sums['timed']:,}" in cell
    assert "/t/acme/panels/interactions?agent=a04&amp;from=2025-04-07&amp;to=2025-04-13" in cell
    assert '/t/acme/panels/agents/a04?range=week&amp;to=2025-04-13' in html
    assert "Tukey" in html  # the outlier rule is named
    labels = re.findall(r'class="cw-label cw-label-(great|good|needs)"', html)
    assert labels and set(labels) <= {"great", "good", "needs"}


def test_coaching_required_names_the_flag_and_links_its_evidence(app, client, world):
    html = _page(app, client, "sup-t1").get_data(as_text=True)
    section = html.split('data-testid="coaching"', 1)[1].split("</ul>", 1)[0]
    entry = section.split('data-agent="a04"', 1)[1].split("</li>", 1)[0]
    assert "Coaching flags: 1" in entry and "negative-sentiment" in entry
    assert f'/t/acme/panels/interactions/{world["flagged"]}' in entry
    assert "customer_sentiment -0.82 &lt; -0.6" in entry


def test_the_week_recognitions_and_sentiment_heat_map(app, client, records, world):
    html = _page(app, client, "sup-t1").get_data(as_text=True)
    appointments = html.split('data-testid="appointments"', 1)[1].split("</table>", 1)[0]
    assert "Booked" in appointments and "the supervisor&#39;s calendar was free" in appointments
    assert "among the host&#39;s suggested slots" in appointments
    assert "Skipped: weekly limit" in appointments and "1 of 1 automated appointments" in appointments
    assert "1 booked, 1 skipped" in html
    assert "Recognitions sent in the period: 1." in html and "/t/acme/panels/interactions/c-thanks" in html
    expected = sum(1 for r in records if r["agent_id"] in T1 and r.get("customer_sentiment") is not None
                   and START <= analytics_local_day(r) <= END)
    assert expected > 0
    assert f"Negative sentiment share by local weekday and hour (n = {expected})" in html


def analytics_local_day(record) -> date:
    from zoneinfo import ZoneInfo

    return record["ended_at"].astimezone(ZoneInfo("Europe/London")).date()


def test_an_agent_goes_to_their_own_page(app, client, world):
    answer = _page(app, client, "a04")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/t/acme/panels/my-performance"


def test_a_manager_sees_teams_and_can_pick_one(app, client, world):
    html = _page(app, client, "mgr").get_data(as_text=True)
    assert 'data-row="t1"' in html and 'data-row="t2"' in html and 'name="team"' in html
    html = client.get(f"/t/acme/panels/home?{WEEK}&team=t2", headers=FRAME).get_data(as_text=True)
    assert 'data-row="a01"' in html and 'data-row="a04"' not in html


def test_an_htmx_request_gets_the_sections_only(app, client, world):
    headers = panel_session(app, client, "sup-t1")
    html = client.get(f"/t/acme/panels/home?{WEEK}", headers=headers).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="home-sections"') and "<html" not in html


@pytest.mark.parametrize("query", ["range=year", "range=week&to=13.04.2025", "to=0001-01-02",
                                   "to=9999-12-31", "team=t2", "team=nope"])
def test_bad_parameters_are_a_400_page(app, client, world, query):
    answer = _page(app, client, "sup-t1", query)
    assert answer.status_code == 400
    assert "text/html" in answer.headers["Content-Type"]


def _audits(db, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _status(db, key: str) -> str:
    with db.session() as session:
        return session.get(PerformanceAlert, ("acme", key)).status


def test_acknowledge_then_close_are_audited_as_the_api_does(app, client, db, world):
    headers = panel_session(app, client, "sup-t1")
    key = "threshold:agent:a04:aht_s"
    answer = client.post(f"/t/acme/panels/home/alerts/{key}/acknowledge", headers=headers)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and html.lstrip().startswith("<tr")
    assert 'data-status="acknowledged"' in html and "Acknowledged" in html
    assert _status(db, key) == "acknowledged"
    [entry] = _audits(db, "alert.acknowledged")
    assert (entry.actor, entry.subject_type, entry.subject_id) == ("person:sup-t1", "alert", key)
    assert entry.details == {"previous": "open", "note": None}
    again = client.post(f"/t/acme/panels/home/alerts/{key}/acknowledge", headers=headers)
    assert again.status_code == 409 and len(_audits(db, "alert.acknowledged")) == 1
    closed = client.post(f"/t/acme/panels/home/alerts/{key}/close", headers=headers)
    assert closed.status_code == 200 and _status(db, key) == "closed"
    assert [e.details["previous"] for e in _audits(db, "alert.closed")] == ["acknowledged"]


def test_another_teams_alert_is_not_found(app, client, db, world):
    headers = panel_session(app, client, "sup-t1")
    answer = client.post("/t/acme/panels/home/alerts/threshold:agent:a01:aht_s/close", headers=headers)
    assert answer.status_code == 404 and _status(db, "threshold:agent:a01:aht_s") == "open"


def test_a_post_without_the_csrf_token_changes_nothing(app, client, db, world):
    headers = panel_session(app, client, "sup-t1")
    headers.pop("X-CSRF-Token")
    key = "threshold:agent:a04:aht_s"
    answer = client.post(f"/t/acme/panels/home/alerts/{key}/acknowledge", headers=headers)
    assert answer.status_code == 403
    assert _status(db, key) == "open"
    with db.session() as session:
        assert session.scalar(select(func.count(AuditEntry.id))
                              .where(AuditEntry.action.like("alert.%"))) == 0


def test_an_agent_cannot_act_on_alerts(app, client, db, world):
    headers = panel_session(app, client, "a04")
    answer = client.post("/t/acme/panels/home/alerts/threshold:agent:a04:aht_s/close", headers=headers)
    assert answer.status_code == 403 and _status(db, "threshold:agent:a04:aht_s") == "open"


def test_the_page_speaks_german_when_the_console_does(app, client, world):
    html = _page(app, client, "sup-t1", WEEK + "&gcLangTag=de-DE").get_data(as_text=True)
    assert "Contact-Center-Kennzahlen" in html and "Coaching nötig" in html
    assert "gegenüber den 7 Tagen davor" in html or "kein Wert der 7 Tage davor" in html \
        or "als in den 7 Tagen davor" in html
    assert 'name="gcLangTag" value="de-DE"' in html  # the selector keeps the language


def test_a_period_without_data_says_why_instead_of_showing_zeros(app, client, world):
    html = _page(app, client, "sup-t1", "range=week&to=2020-01-12").get_data(as_text=True)
    assert "No interactions in this period for this scope" in html
    assert "No customer sentiment in this period" in html
    assert 'data-metric="qa"' not in html.split('id="h-team"')[0]  # no cards of empty figures


@pytest.fixture
def small_team(app, db, tenant):
    """Five agents of team tx with six interactions each; b5 takes ten times as long."""
    from tests.factories import add_people

    add_people(db, "acme", [*((f"b{i}", "agent", "tx", "sup-x") for i in range(1, 6)),
                            ("sup-x", "supervisor", "tx", None)])
    records = []
    for i in range(1, 6):
        handle = 3_000_000 if i == 5 else 290_000 + i * 5_000
        for k in range(6):
            records.append({"conversation_id": f"x{i}-{k}", "agent_id": f"b{i}", "team_id": "tx",
                            "queue_id": None, "inquiry": "billing", "channel": "voice",
                            "ended_at": datetime(2025, 4, 8 + k, 10, tzinfo=UTC),
                            "t_talk_ms": handle, "t_hold_ms": 0, "t_acw_ms": 0, "t_handle_ms": handle,
                            "transferred": False, "fcr": None, "csat": None, "nps": None,
                            "qa_score": None, "customer_sentiment": None, "agent_sentiment": None,
                            "p_satisfaction": None, "p_resolution": None})
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id="acme", records=records)


def test_an_outlier_is_marked_in_words_with_the_rule(app, client, small_team):
    html = _page(app, client, "sup-x").get_data(as_text=True)
    slow = _cell(html, "b5", "aht_s")
    assert "3,000 s" in slow and "n = 6" in slow
    assert "Outlier: needs work" in slow and "Needs work" in slow
    assert "Outlier" not in _cell(html, "b1", "aht_s")
    assert "Tukey" in html
    # b5 also lands in "coaching required": bottom quarter of billing by voice, with n
    entry = html.split('data-agent="b5"', 1)[1].split("</li>", 1)[0]
    assert "Needs work on billing by voice" in entry and "n = 6" in entry
