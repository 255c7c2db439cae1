"""The supervisor's team home in a real browser, framed by the sandbox console: the supervisor's
own team with seeded facts, an alert acknowledged from the keyboard (Tab to the button, Enter:
an htmx POST carrying the inherited CSRF header), axe-core clean, screenshots at 360 and 1440 px."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.browser.conftest import AXE, SCREENSHOTS, TENANT
from tests.browser.test_panel_shell import FRAME, panel_frame, sign_in, watch

KEY = "threshold:agent:home-test:aht_s"


def seed(app, world) -> tuple:
    """Facts for the first supervisor's team over the last 20 days (the page's default range is
    the last 30), a flag, an open alert and a sent recognition about their first agent."""
    from extension.analytics import facts as analytics
    from extension.analytics.models.facts import PerformanceAlert
    from extension.coaching.models import Flag, Recognition

    supervisor = world.supervisors[0]
    team = next(t for t in world.teams if t.supervisor_id == supervisor.id)
    agents = [a for a in world.agents if a.team_id == team.id]
    rng, now = random.Random(5), datetime.now(UTC)
    records = []
    for agent in agents:
        for k in range(40):
            talk, acw = rng.randint(60, 600) * 1000, rng.randint(10, 120) * 1000
            records.append({
                "conversation_id": f"home-{agent.id[:8]}-{k}", "agent_id": agent.id,
                "team_id": team.id, "queue_id": None, "inquiry": rng.choice(["Billing", "Orders"]),
                "channel": rng.choice(["voice", "chat"]),
                "ended_at": now - timedelta(days=rng.randint(0, 19), minutes=rng.randint(1, 600)),
                "t_talk_ms": talk, "t_hold_ms": 0, "t_acw_ms": acw, "t_handle_ms": talk + acw,
                "transferred": rng.random() < 0.1, "fcr": rng.random() < 0.7,
                "csat": rng.randint(1, 5), "nps": None, "qa_score": rng.randint(50, 100),
                "customer_sentiment": round(rng.uniform(-1, 1), 2), "agent_sentiment": None,
                "p_satisfaction": round(rng.uniform(0.4, 1), 2),
                "p_resolution": round(rng.uniform(0.4, 1), 2),
            })
    first = agents[0]
    with app.extensions["coachwire.db"].session() as session:
        analytics.upsert_facts(session, tenant_id=TENANT, records=records)
        session.add(Flag(tenant_id=TENANT, conversation_id=records[0]["conversation_id"],
                         agent_id=first.id, rule_id="negative-sentiment", action="flag",
                         at=records[0]["ended_at"], reasons=["customer_sentiment -0.8 < -0.6"]))
        session.add(PerformanceAlert(tenant_id=TENANT, key=KEY, kind="threshold", subject_type="agent",
                                     subject_id=first.id, metric="aht_s", value=720.0,
                                     message="AHT above 600 s", status="open", raised_at=now))
        session.add(Recognition(tenant_id=TENANT, agent_id=first.id,
                                conversation_id=records[1]["conversation_id"],
                                idempotency_key="recognition:home-test", status="sent", created_at=now))
    return supervisor, first


def test_the_supervisor_home_is_accessible_and_acknowledges_from_the_keyboard(app, context, panels):
    from extension.analytics.models.facts import PerformanceAlert
    from extension.platform.models.audit import AuditEntry

    supervisor, first = seed(app, panels.world)
    page = context.new_page()
    messages = watch(page)
    sign_in(page, panels.console, supervisor)
    page.frame_locator(FRAME).get_by_test_id("team-table").wait_for()
    frame = panel_frame(page)
    assert "/panels/home?" in frame.url
    frame.wait_for_function("() => !!customElements.get('gux-button') && !!window.htmx")
    html = frame.content()
    assert first.name in html and "n = " in html and "Tukey" in html
    assert f'data-row="{first.id}"' in html
    assert not [m for m in messages if "Content Security Policy" in m], messages

    frame.evaluate(AXE.read_text(encoding="utf-8"))
    violations = frame.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                        'best-practice']}})).violations.map(
        v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1440):
        page.set_viewport_size({"width": width, "height": 800 if width == 360 else 900})
        page.locator(FRAME).screenshot(path=str(SCREENSHOTS / f"home-{width}.png"))
        overflow = frame.evaluate("document.documentElement.scrollWidth > "
                                  "document.documentElement.clientWidth")
        wide = frame.evaluate("""() => [...document.querySelectorAll('body *')].filter(
            e => !e.closest('.cw-scroll')
                 && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' +
            Math.round(e.getBoundingClientRect().right))""")
        assert not overflow, f"the home page scrolls sideways at {width} px: {wide}"

    # keyboard only: Tab until the acknowledge button has the focus, then Enter
    frame.evaluate("document.activeElement && document.activeElement.blur()")
    frame.locator("body").focus()
    for _ in range(400):
        page.keyboard.press("Tab")
        if frame.evaluate("document.activeElement?.dataset?.action === 'acknowledge'"):
            break
    else:
        raise AssertionError("the acknowledge button is not reachable with Tab")
    page.keyboard.press("Enter")
    frame.locator(f'tr[data-alert="{KEY}"][data-status="acknowledged"]').wait_for()
    with app.extensions["coachwire.db"].session() as session:
        assert session.get(PerformanceAlert, (TENANT, KEY)).status == "acknowledged"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.acknowledged")).one()
        assert entry.actor == f"person:{supervisor.id}" and entry.subject_id == KEY


def test_the_range_selector_swaps_the_sections_and_pushes_a_url(app, context, panels):
    supervisor, _first = seed(app, panels.world)
    page = context.new_page()
    sign_in(page, panels.console, supervisor)
    page.frame_locator(FRAME).get_by_test_id("team-table").wait_for()
    frame = panel_frame(page)
    frame.wait_for_function("() => !!window.htmx")
    frame.locator("#home-range").select_option("week")
    frame.wait_for_function("() => location.search.includes('range=week')")
    frame.get_by_test_id("period").wait_for()
    assert "7 days before" in frame.get_by_test_id("period").inner_text()
    assert frame.locator("h1").count() == 1  # only the sections were swapped
