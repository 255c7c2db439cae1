"""The agent directory, agent overview, inquiry details and my performance in a real browser,
signed in through the sandbox console: a supervisor searches, opens an agent and an inquiry;
an agent sees their own performance and gets 404 for another agent's; axe-core on each page;
screenshots at 360 px and 1440 px into docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import AXE, SCREENSHOTS, TENANT
from tests.browser.test_panel_shell import FRAME, panel_frame, sign_in


@pytest.fixture
def seeded(app, panels):
    """Generated interactions for the synced agents of tenant sbx, ending yesterday, so the
    default three months hold them and every agent has peers."""
    from sqlalchemy import select

    from extension.analytics import facts
    from extension.platform.models.people import Person
    from tests.unit.analytics.generate import START, generate

    db = app.extensions["coachwire.db"]
    with db.session() as session:
        agents = list(session.scalars(select(Person).where(Person.tenant_id == TENANT, Person.role == "agent")
                                      .order_by(Person.id)))
    assert len(agents) >= 4
    shift = (datetime.now(UTC) - timedelta(days=35)) - START
    records = []
    for record in generate(seed=7):
        person = agents[int(record["agent_id"][1:]) % len(agents)]
        records.append({**record, "agent_id": person.id, "team_id": person.team_id,
                        "ended_at": record["ended_at"] + shift})
    recent = [r for r in records if r["ended_at"] < datetime.now(UTC) - timedelta(hours=1)]
    with db.session() as session:
        facts.upsert_facts(session, tenant_id=TENANT, records=recent)
    return {person.id: person for person in agents}


def axe_clean(frame) -> None:
    frame.evaluate(AXE.read_text(encoding="utf-8"))
    violations = frame.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                        'best-practice']}})).violations.map(
        v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious


def photograph(page, frame, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1440):
        page.set_viewport_size({"width": width, "height": 640 if width == 360 else 900})
        page.wait_for_timeout(100)
        page.locator(FRAME).screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))
        overflow = frame.evaluate("document.documentElement.scrollWidth > "
                                  "document.documentElement.clientWidth")
        assert not overflow, f"{name} scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_supervisor_searches_the_directory_and_opens_an_agent_and_an_inquiry(app, context, panels, seeded):
    page = context.new_page()
    supervisor = panels.world.supervisors[0]
    sign_in(page, f"{panels.console}?view=agents", supervisor)
    frame_view = page.frame_locator(FRAME)
    frame_view.get_by_test_id("directory").wait_for()
    frame = panel_frame(page)
    rows = frame.locator("tr[data-agent]")
    assert rows.count() >= 1
    mine = [seeded[a] for a in rows.evaluate_all("rs => rs.map(r => r.dataset.agent)")]
    assert all(person.team_id == mine[0].team_id or person.supervisor_id == supervisor.id for person in mine)
    axe_clean(frame)
    photograph(page, frame, "agents")

    target = mine[0]
    frame.get_by_label("Search by name").fill(target.name)
    frame.get_by_role("button", name="Apply").click()
    frame.wait_for_function("() => location.search.includes('q=')")  # hx-push-url: a real URL
    frame.wait_for_function("id => [...document.querySelectorAll('tr[data-agent]')]"
                            ".every(r => r.dataset.agent === id)", arg=target.id)
    frame.locator(f'tr[data-agent="{target.id}"] th a').first.click()
    frame_view.get_by_test_id("performance").wait_for()
    frame = panel_frame(page)
    assert f"/panels/agents/{target.id}" in frame.url
    assert frame.get_by_test_id("plan").count() == 1
    assert frame.locator(".cw-q").count() > 0  # quartile words
    axe_clean(frame)
    photograph(page, frame, "agent-overview")

    frame.locator("[data-testid=inquiries] tbody th a").first.click()
    frame_view.get_by_test_id("inquiry").wait_for()
    frame = panel_frame(page)
    assert "/inquiries/" in frame.url
    link = frame.get_by_test_id("interaction-link").first
    assert "/panels/interactions/" in link.get_attribute("href")
    frame.locator("details summary").first.click()
    assert frame.locator("details[open]").count() == 1
    axe_clean(frame)
    photograph(page, frame, "inquiry")


def test_an_agent_sees_their_own_performance_and_not_another_agents(app, context, panels, seeded):
    page = context.new_page()
    agent = next(a for a in panels.world.agents if a.id in seeded)
    sign_in(page, f"{panels.console}?view=my-performance", agent)
    page.frame_locator(FRAME).get_by_test_id("performance").wait_for()
    frame = panel_frame(page)
    assert frame.get_by_role("heading", name="My performance").count() == 1
    assert frame.get_by_test_id("plan").count() == 0
    axe_clean(frame)
    photograph(page, frame, "my-performance")
    other = next(a for a in seeded if a != agent.id)
    answer = frame.goto(f"{panels.coachwire}/t/{TENANT}/panels/agents/{other}")
    assert answer is not None and answer.status == 404
    own = panel_frame(page).goto(f"{panels.coachwire}/t/{TENANT}/panels/agents/{agent.id}")
    assert own is not None and own.status == 200
