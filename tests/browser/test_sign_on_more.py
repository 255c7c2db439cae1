"""Popup sign-on in a real browser (``gcUsePopupAuth=true``): the sandbox console frames the
panel on another site, third-party-cookie phase-out on. The frame shows a button, the popup runs
the host's sign-in, hands a one-time code back by ``postMessage`` and closes, and the frame ends
up with its own partitioned session. axe-core on the sign-in page; screenshots at 360/1440 px."""

from __future__ import annotations

from tests.browser.conftest import AXE, SCREENSHOTS, TENANT
from tests.browser.test_panel_shell import FRAME, panel_frame, watch

BUTTON = "[data-testid=popup-sign-in]"


def popup_sign_in(page, console_url: str, person):
    """In the framed panel: press Sign in, pick ``person`` in the popup; returns the popup."""
    frame = page.frame_locator(FRAME)
    frame.locator(BUTTON).wait_for()
    with page.expect_popup() as opened:
        frame.locator(BUTTON).click()
    popup = opened.value
    popup.locator("select#user_id").select_option(person.id)
    with popup.expect_event("close", timeout=10_000):
        popup.get_by_role("button", name="Sign in").click()
    return popup


def test_a_supervisor_signs_in_through_a_popup_and_the_frame_keeps_its_own_session(
        context, panels):
    page = context.new_page()
    messages = watch(page)
    supervisor = panels.world.supervisors[0]
    page.goto(f"{panels.console}?popup=1")
    assert page.frame_locator(FRAME).get_by_test_id("signed-in").count() == 0
    popup_sign_in(page, panels.console, supervisor)
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert supervisor.name in who.inner_text() and "(Supervisor)" in who.inner_text()
    frame = panel_frame(page)
    assert "gcUsePopupAuth=true" in frame.url
    # the session cookie is the frame's, partitioned by the console's site; none top-level
    sessions = [c for c in context.cookies() if c["name"] == "__Host-coachwire"]
    assert len(sessions) == 1, sessions
    assert sessions[0].get("partitionKey") == "http://localhost"
    assert sessions[0]["secure"] and sessions[0]["httpOnly"] and sessions[0]["sameSite"] == "None"
    assert not [m for m in messages if "Content Security Policy" in m], messages
    # the frame survives a reload with that session
    page.reload()
    page.frame_locator(FRAME).get_by_test_id("signed-in").wait_for()


def test_a_message_from_another_window_does_not_sign_the_frame_in(context, panels):
    """Only the popup the frame opened, from Coachwire's origin, with the frame's nonce counts."""
    page = context.new_page()
    page.goto(f"{panels.console}?popup=1")
    page.frame_locator(FRAME).locator(BUTTON).wait_for()
    frame = next(f for f in page.frames if f"/t/{TENANT}/sso/start" in f.url)
    nonce = frame.locator(BUTTON).get_attribute("data-nonce")
    # the console (another origin) posts a forged code with the right nonce
    page.evaluate("""nonce => document.querySelector('iframe').contentWindow.postMessage(
        {type: 'coachwire-sign-in', nonce, code: 'forged'}, '*')""", nonce)
    # and the frame itself, not being the popup it opened, posts one too
    frame.evaluate("""nonce => window.postMessage(
        {type: 'coachwire-sign-in', nonce, code: 'forged'}, window.location.origin)""", nonce)
    page.wait_for_timeout(500)
    assert f"/t/{TENANT}/sso/start" in frame.url  # still waiting: nothing was posted back
    assert frame.locator("[name=code]").input_value() == ""


def test_switching_person_in_popup_mode_rotates_the_frames_session(context, panels):
    page = context.new_page()
    agent, supervisor = panels.world.agents[0], panels.world.supervisors[0]
    page.goto(f"{panels.console}?popup=1")
    popup_sign_in(page, panels.console, agent)
    page.frame_locator(FRAME).get_by_test_id("signed-in").wait_for()
    page.get_by_test_id("switch-person").click()
    popup_sign_in(page, panels.console, supervisor)
    who = page.frame_locator(FRAME).get_by_test_id("signed-in")
    who.wait_for()
    assert supervisor.name in who.inner_text()
    assert len([c for c in context.cookies() if c["name"] == "__Host-coachwire"]) == 1


def test_the_popup_sign_in_page_is_accessible_and_photographed(context, panels):
    page = context.new_page()
    page.goto(f"{panels.console}?popup=1")
    page.frame_locator(FRAME).locator(BUTTON).wait_for()
    frame = next(f for f in page.frames if f"/t/{TENANT}/sso/start" in f.url)
    frame.evaluate(AXE.read_text(encoding="utf-8"))
    violations = frame.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                        'best-practice']}})).violations.map(
        v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    # keyboard only: the button takes focus and Enter opens the popup
    frame.focus(BUTTON)
    with page.expect_popup() as opened:
        page.keyboard.press("Enter")
    opened.value.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1440):
        page.set_viewport_size({"width": width, "height": 640 if width == 360 else 900})
        page.locator(FRAME).screenshot(path=str(SCREENSHOTS / f"sign-on-popup-{width}.png"))
        overflow = frame.evaluate("document.documentElement.scrollWidth > "
                                  "document.documentElement.clientWidth")
        assert not overflow, f"the sign-in page scrolls sideways at {width} px"
