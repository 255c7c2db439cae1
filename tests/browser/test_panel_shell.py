"""The panel shell in a real browser: signed in through the sandbox console (another site),
third-party-cookie phase-out on; refused when framed by an unlisted origin; axe-core clean;
screenshots at 360 px and 1440 px into docs/screenshots/."""

from __future__ import annotations

import re
import time

from tests.browser.conftest import AXE, SCREENSHOTS, TENANT

PANEL = re.compile(rf"/t/{TENANT}/panels/")
FRAME = "iframe[data-testid=panel-frame]"


def watch(page) -> list[str]:
    """Console messages of the page and its frames (CSP reports land here)."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    return messages


def sign_in(page, console_url: str, person) -> None:
    """Open the console; in its frame, pick ``person`` at the host's sign-in page."""
    page.goto(console_url)
    frame = page.frame_locator(FRAME)
    frame.locator("select#user_id").select_option(person.id)
    frame.get_by_role("button", name="Sign in").click()


def panel_frame(page):
    for _ in range(100):
        frame = next((f for f in page.frames if PANEL.search(f.url)), None)
        if frame is not None:
            return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no panel frame among {[f.url for f in page.frames]}")


def test_an_agent_signs_in_through_the_console_and_lands_on_their_own_performance(context, panels):
    page = context.new_page()
    messages = watch(page)
    agent = panels.world.agents[0]
    sign_in(page, panels.console, agent)
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert agent.name in who.inner_text() and "(Agent)" in who.inner_text()
    frame = panel_frame(page)
    # the console opens the home panel; an agent's home is their own performance
    assert frame.url.startswith(f"{panels.coachwire}/t/{TENANT}/panels/my-performance?")
    assert "gcHostOrigin=" in frame.url and "gcTargetEnv=sandbox" in frame.url  # kept on the way
    assert frame.evaluate("document.documentElement.lang") == "en"
    # the session cookie lives in the console's partition only
    cookies = [c for c in context.cookies() if c["name"] == "__Host-coachwire"]
    assert len(cookies) == 1 and cookies[0]["domain"] == "127.0.0.1"
    assert cookies[0]["secure"] and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "None"
    assert cookies[0].get("partitionKey") == "http://localhost"  # the console's site
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_a_supervisor_signs_in_and_the_shell_loads_spark_and_htmx_under_the_csp(context, panels):
    page = context.new_page()
    messages = watch(page)
    supervisor = panels.world.supervisors[0]
    sign_in(page, panels.console, supervisor)
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert supervisor.name in who.inner_text() and "(Supervisor)" in who.inner_text()
    frame = panel_frame(page)
    frame.wait_for_function("() => !!customElements.get('gux-button') && !!window.htmx")
    assert frame.evaluate("document.fonts.check('16px \"Noto Sans\"')")
    assert not [m for m in messages if "Content Security Policy" in m], messages
    # the frame survives a reload: the partitioned session is kept
    page.reload()
    page.frame_locator(FRAME).get_by_test_id("signed-in").wait_for()


def test_the_shell_has_no_serious_accessibility_violation_and_is_photographed(context, panels):
    page = context.new_page()
    sign_in(page, panels.console, panels.world.supervisors[0])
    page.frame_locator(FRAME).get_by_test_id("signed-in").wait_for()
    frame = panel_frame(page)
    frame.wait_for_function("() => !!customElements.get('gux-button')")
    frame.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, so the page's CSP still holds
    violations = frame.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                        'best-practice']}})).violations.map(
        v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1440):
        page.set_viewport_size({"width": width, "height": 640 if width == 360 else 900})
        page.locator(FRAME).screenshot(path=str(SCREENSHOTS / f"shell-{width}.png"))
        overflow = frame.evaluate("document.documentElement.scrollWidth > "
                                  "document.documentElement.clientWidth")
        assert not overflow, f"the shell scrolls sideways at {width} px"


def test_a_console_origin_that_the_tenant_does_not_list_cannot_frame_a_panel(context, panels):
    page = context.new_page()
    messages = watch(page)
    unlisted = panels.console_on("console.localhost")  # another origin, same loopback server
    with page.expect_response(lambda r: PANEL.search(r.url) and r.status == 200) as served:
        sign_in(page, unlisted, panels.world.supervisors[0])
    policy = served.value.headers["content-security-policy"]
    assert f"frame-ancestors {panels.host}" in policy  # the listed console only
    frame = page.frame_locator(FRAME)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(f.url.startswith("chrome-error:")
                                                   for f in page.frames):
        page.wait_for_timeout(50)
    assert any(f.url.startswith("chrome-error:") for f in page.frames)  # Chromium refused it
    assert any("frame-ancestors" in m and "blocked" in m for m in messages), messages
    assert frame.get_by_test_id("signed-in").count() == 0
    # the listed console in the same browser still works
    sign_in(page, panels.console, panels.world.supervisors[0])
    page.frame_locator(FRAME).get_by_test_id("signed-in").wait_for()


def test_the_console_signs_in_someone_else_in_the_same_frame(context, panels):
    page = context.new_page()
    agent, supervisor = panels.world.agents[0], panels.world.supervisors[0]
    sign_in(page, panels.console, agent)
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert "(Agent)" in who.inner_text()
    page.get_by_test_id("switch-person").click()
    frame = page.frame_locator(FRAME)
    frame.locator("select#user_id").select_option(supervisor.id)
    frame.get_by_role("button", name="Sign in").click()
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert supervisor.name in who.inner_text() and "(Supervisor)" in who.inner_text()
    # the old session was rotated away: one session cookie, the supervisor's
    assert len([c for c in context.cookies() if c["name"] == "__Host-coachwire"]) == 1


def test_an_admin_opens_the_settings_panel_from_the_console(app, context, panels):
    from extension.platform import roles

    admin = panels.world.supervisors[-1]
    with app.extensions["coachwire.db"].session() as session:  # granted inside Coachwire
        roles.set_role(session, TENANT, admin.id, "admin", actor="test:admin")
    page = context.new_page()
    sign_in(page, f"{panels.console}?view=settings", admin)
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert admin.name in who.inner_text() and "(Admin)" in who.inner_text()
    frame = panel_frame(page)
    assert "/panels/settings?" in frame.url
    # the settings page: axe-clean, and naming a QA analyst from the keyboard-usable form
    frame.evaluate(AXE.read_text(encoding="utf-8"))
    violations = frame.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                        'best-practice']}})).violations.map(
        v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    assert not [v for v in violations if v["impact"] in ("serious", "critical")], violations
    agent = panels.world.agents[0]
    panel = page.frame_locator(FRAME)
    panel.get_by_label("Search by name or email").fill(agent.name)
    panel.get_by_role("button", name="Show").click()
    row = panel.locator(f"#person-{agent.id}")
    row.get_by_role("combobox").select_option("qa_analyst")
    row.get_by_role("button", name="Set role").click()
    page.frame_locator(FRAME).locator(f"#person-{agent.id}").get_by_role("status").wait_for()
    with app.extensions["coachwire.db"].session() as session:
        from extension.platform.models.people import Person

        assert session.get(Person, (TENANT, agent.id)).role == "qa_analyst"
    for width in (360, 1440):
        page.set_viewport_size({"width": width, "height": 800 if width == 360 else 900})
        page.locator(FRAME).screenshot(path=str(SCREENSHOTS / f"settings-{width}.png"))
        assert not frame.evaluate("document.documentElement.scrollWidth > "
                                  "document.documentElement.clientWidth"), width
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="Coaching home").click()  # the console's app list
    page.frame_locator(FRAME).get_by_role("heading", name="Home").wait_for()
