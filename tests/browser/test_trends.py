"""Trends, the drill-down list and the interaction widget in a real browser, framed by the sandbox
console: the ECharts chart renders (SVG) with no CSP violation, a table row drills down to its
interactions, one opens, "Add to coaching" confirms; axe-core finds nothing serious on any page;
screenshots at 360 px and 1440 px into docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.browser.conftest import AXE, SCREENSHOTS, TENANT
from tests.browser.test_panel_shell import FRAME, panel_frame, sign_in, watch

# every frame records CSP violations (the trends page must draw without one)
CSP_PROBE = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
AXE_RUN = """async () => (await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                    'best-practice']}})).violations.map(
    v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"""


def seed_facts(app, supervisor_id: str) -> list[str]:
    """Ten weeks of interactions for the supervisor's people (as synced into Coachwire)."""
    from extension.analytics import facts as analytics
    from extension.platform.models.people import Person

    with app.extensions["coachwire.db"].session() as session:
        people = [p for p in session.scalars(select(Person).where(Person.tenant_id == TENANT))
                  if p.supervisor_id == supervisor_id and p.id != supervisor_id]
        team = next(p.team_id for p in people if p.team_id)
        agents = [p.id for p in people if p.team_id == team][:3]
        now = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)
        records = [{"conversation_id": f"brw-{a}-{d}-{k}", "agent_id": agent, "team_id": team,
                    "queue_id": None, "inquiry": ("billing", "tech")[k % 2], "channel": "voice",
                    "ended_at": now - timedelta(days=d, hours=k),
                    "t_handle_ms": 180000 + 9000 * ((d + k) % 7),
                    "t_talk_ms": 150000, "t_hold_ms": 10000 * (k % 3), "t_acw_ms": 20000,
                    "transferred": k % 4 == 0, "fcr": k % 3 != 0, "csat": 3.0 + (d % 3),
                    "customer_sentiment": 0.2, "agent_sentiment": 0.4}
                   for a, agent in enumerate(agents) for d in range(1, 70, 2) for k in range(2)]
        analytics.upsert_facts(session, tenant_id=TENANT, records=records)
    return agents


def check_page(frame, name: str, page) -> None:
    frame.evaluate(AXE.read_text(encoding="utf-8"))
    serious = [v for v in frame.evaluate(AXE_RUN) if v["impact"] in ("serious", "critical")]
    assert not serious, (name, serious)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1440):
        page.set_viewport_size({"width": width, "height": 640 if width == 360 else 900})
        page.wait_for_timeout(150)
        page.locator(FRAME).screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))
        overflow = frame.evaluate("document.documentElement.scrollWidth > "
                                  "document.documentElement.clientWidth")
        offenders = frame.evaluate("""() => [...document.querySelectorAll('body *')].filter(
            e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
              && !e.closest('.tr-table-wrap > *')).map(e => e.tagName + '.' + e.className + ' ' +
              Math.round(e.getBoundingClientRect().right)).slice(0, 12)""")
        assert not overflow, (f"{name} scrolls sideways at {width} px", offenders)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_supervisor_follows_a_trend_to_an_interaction_and_adds_it_to_coaching(app, context, panels):
    supervisor = panels.world.supervisors[0]
    seed_facts(app, supervisor.id)
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    messages = watch(page)
    sign_in(page, f"{panels.console}?view=trends", supervisor)
    inside = page.frame_locator(FRAME)
    inside.get_by_test_id("trend-chart").locator("svg").first.wait_for()
    frame = panel_frame(page)
    assert "/panels/trends?" in frame.url
    frame.wait_for_function("() => document.getElementById('trend-chart').dataset.ready === 'true'")
    assert frame.evaluate("document.querySelectorAll('#trend-chart svg path').length") > 3
    assert frame.evaluate("window.__csp") == []
    assert not [m for m in messages if "Content Security Policy" in m], messages
    rows = inside.get_by_test_id("trend-table").locator("tbody tr:not([data-forecast])")
    assert rows.count() >= 8
    check_page(frame, "trends", page)

    link = inside.get_by_test_id("drill").first
    volume = int(rows.first.locator("td[data-volume]").get_attribute("data-volume"))
    link.click()
    inside.get_by_test_id("count").wait_for()
    frame = panel_frame(page)
    assert "/panels/interactions?" in frame.url
    assert inside.get_by_test_id("count").inner_text().startswith(f"{volume} ")
    assert inside.locator("tr[data-conversation]").count() == min(volume, 25)
    check_page(frame, "interactions", page)
    listing = frame.url
    frame.goto(f"{listing}&limit=5")  # "More" swaps the next page of rows in place (htmx)
    inside.get_by_test_id("more-row").get_by_role("link", name="More").click()
    inside.locator("tr[data-conversation]").nth(9).wait_for()
    assert inside.locator("tr[data-conversation]").count() == 10 and "limit=5" in frame.url
    assert frame.evaluate("window.__csp") == []

    inside.get_by_test_id("open-interaction").first.click()
    inside.get_by_test_id("kpis").wait_for()
    frame = panel_frame(page)
    assert "/panels/interactions/brw-" in frame.url
    check_page(frame, "interaction", page)
    inside.get_by_test_id("add-to-coaching").click()
    confirmation = inside.get_by_test_id("coaching-confirmation")
    confirmation.wait_for()
    assert "Added to coaching" in confirmation.inner_text()
    assert inside.get_by_test_id("in-coaching").count() == 1
    assert frame.evaluate("window.__csp") == []
    assert not [m for m in messages if "Content Security Policy" in m], messages
