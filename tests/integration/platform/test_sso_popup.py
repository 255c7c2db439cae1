"""Popup sign-on (``gcUsePopupAuth=true``) end to end against the sandbox host.

Two test clients stand for two cookie jars: the frame's (partitioned by the console's site) and
the popup's (first-party). The session must end up in the frame's jar, through the handover,
never through the popup's."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

from sqlalchemy import select

from extension.platform import csrf
from extension.platform.models.sessions import PanelSession, SsoHandover
from extension.platform.shell import BIND_COOKIE, SESSION_COOKIE
from tests.integration.platform.test_sso import (
    CONSOLE,
    HOME,
    audit_actions,
    host,
    pick,
    sbx,
    supervisor,
)

__all__ = ["host", "sbx"]  # fixtures used by name below

POPUP_PANEL = f"{HOME}?gcLangTag=en-us&gcUsePopupAuth=true"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe",
               "Origin": "http://127.0.0.1:5000"}


def _attr(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def _input(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def frame_offer(client):
    """The frame opens the panel: no session, so the sign-on page with the popup button."""
    first = client.get(POPUP_PANEL, headers={"Sec-Fetch-Dest": "iframe"})
    assert first.status_code == 302
    offer = client.get(first.headers["Location"], headers={"Sec-Fetch-Dest": "iframe"})
    assert offer.status_code == 200, offer.get_data(as_text=True)
    return offer


def popup_sign_in(popup_client, offer_page: str, user_id: str):
    """The popup: its start, the host's picker, the callback page."""
    started = popup_client.get(_attr(offer_page, "data-popup-url"))
    assert started.status_code == 302, started.get_data(as_text=True)
    return popup_client.get(pick(started.headers["Location"], user_id))


def whole_flow(app, client, world):
    offer = frame_offer(client)
    page = offer.get_data(as_text=True)
    popup_client = app.test_client()
    done = popup_sign_in(popup_client, page, supervisor(world).id)
    assert done.status_code == 200, done.get_data(as_text=True)
    return page, done, popup_client


def test_the_frame_offers_a_button_and_binds_the_offer_to_its_own_cookie(app, client, db, sbx):
    offer = frame_offer(client)
    page = offer.get_data(as_text=True)
    assert 'data-testid="popup-sign-in"' in page and "<button" in page
    assert _attr(page, "data-popup-url").startswith("/t/sbx/sso/popup?key=")
    assert len(_attr(page, "data-nonce")) >= 20
    assert _attr(page, 'method="post" action') == "/t/sbx/sso/handover"
    csp = offer.headers["Content-Security-Policy"]
    assert f"frame-ancestors {CONSOLE}" in csp or CONSOLE in csp.split("frame-ancestors")[1]
    assert offer.headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie(BIND_COOKIE)
    assert cookie is not None and cookie.secure and cookie.http_only
    assert "Partitioned" in offer.headers.get("Set-Cookie", "")
    with db.session() as session:
        row = session.scalars(select(SsoHandover)).one()
        ticket = _input(page, "ticket")
        assert row.ticket_hash != ticket and len(row.ticket_hash) == 64  # only the hash
        assert row.next_path == POPUP_PANEL and row.nonce == _attr(page, "data-nonce")


def test_the_popup_hands_a_code_to_the_frame_which_gets_its_own_session(app, client, db, sbx):
    page, done, popup_client = whole_flow(app, client, sbx)
    popup_page = done.get_data(as_text=True)
    code = _attr(popup_page, "data-code")
    assert _attr(popup_page, "data-nonce") == _attr(page, "data-nonce")
    assert _attr(popup_page, "data-origin") == "http://127.0.0.1:5000"  # our origin only
    assert "window.opener.postMessage" in popup_page
    assert "frame-ancestors 'none'" in done.headers["Content-Security-Policy"]
    # the popup's jar gets no session: it would not be the frame's
    assert popup_client.get_cookie(SESSION_COOKIE) is None
    assert client.get_cookie(SESSION_COOKIE) is None

    handed = client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN,
                         data={"ticket": _input(page, "ticket"), "code": code})
    assert handed.status_code == 303, handed.get_data(as_text=True)
    assert handed.headers["Location"] == POPUP_PANEL
    set_cookie = handed.headers.get("Set-Cookie", "")
    assert SESSION_COOKIE in set_cookie and "Partitioned" in set_cookie
    panel = client.get(POPUP_PANEL, headers={"Sec-Fetch-Dest": "iframe"})
    assert panel.status_code == 200
    assert supervisor(sbx).name in panel.get_data(as_text=True)
    actions = [a for a, _ in audit_actions(db)]
    assert actions == ["sso.signed_in", "sso.handed_over"]
    with db.session() as session:
        assert session.scalars(select(PanelSession)).one().revoked_at is None


def test_a_handover_is_good_once(app, client, db, sbx):
    page, done, _ = whole_flow(app, client, sbx)
    form = {"ticket": _input(page, "ticket"), "code": _attr(done.get_data(as_text=True),
                                                            "data-code")}
    assert client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN, data=form).status_code == 303
    # the frame now holds a session: its CSRF token gets the replay past the CSRF check
    token = csrf.token_for(app.config["SECRET_KEY"], client.get_cookie(SESSION_COOKIE).value)
    again = client.post("/t/sbx/sso/handover", headers={**SAME_ORIGIN, csrf.HEADER: token},
                        data=form)
    assert again.status_code == 400
    assert again.headers["Content-Type"].startswith(("text/html", "application/problem+json"))


def test_another_browser_cannot_claim_the_frames_sign_in(app, client, db, sbx):
    """The popup's own jar (or any other browser) holding ticket and code is not the frame."""
    page, done, popup_client = whole_flow(app, client, sbx)
    form = {"ticket": _input(page, "ticket"), "code": _attr(done.get_data(as_text=True),
                                                            "data-code")}
    stolen = popup_client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN, data=form,
                               environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert stolen.status_code == 400
    assert popup_client.get_cookie(SESSION_COOKIE) is None
    # the frame itself still can
    assert client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN, data=form).status_code == 303


def test_a_wrong_code_or_ticket_is_refused(app, client, db, sbx):
    page, done, _ = whole_flow(app, client, sbx)
    code = _attr(done.get_data(as_text=True), "data-code")
    wrong_code = client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN,
                             data={"ticket": _input(page, "ticket"), "code": code + "x"})
    assert wrong_code.status_code == 400
    wrong_ticket = client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN,
                               data={"ticket": "nope", "code": code})
    assert wrong_ticket.status_code == 400
    assert client.get_cookie(SESSION_COOKIE) is None


def test_the_popup_key_is_good_once(app, client, db, sbx):
    page = frame_offer(client).get_data(as_text=True)
    popup_client = app.test_client()
    url = _attr(page, "data-popup-url")
    assert popup_client.get(url).status_code == 302
    again = popup_client.get(url, headers={"Accept": "application/json"})
    assert again.status_code == 400
    assert again.get_json()["type"].endswith("/sign-on/popup-replayed")


def test_a_handover_post_from_another_site_is_refused(app, client, db, sbx):
    page, done, _ = whole_flow(app, client, sbx)
    # a previous (ended) session cookie in the frame makes the request cookie-authenticated
    client.set_cookie(SESSION_COOKIE, "old", secure=True, httponly=True, samesite="None")
    form = {"ticket": _input(page, "ticket"),
            "code": _attr(done.get_data(as_text=True), "data-code")}
    forged = client.post("/t/sbx/sso/handover", data=form,
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403


def test_without_the_popup_flag_the_frame_goes_straight_to_the_host(client, sbx):
    started = client.get(f"/t/sbx/sso/start?next={quote(HOME, safe='')}")
    assert started.status_code == 302
    assert urlsplit(started.headers["Location"]).path == "/oauth/authorize"


def test_the_popup_page_speaks_german_for_a_german_console(client, sbx):
    first = client.get(f"{HOME}?gcLangTag=de-DE&gcUsePopupAuth=true",
                       headers={"Sec-Fetch-Dest": "iframe"})
    offer = client.get(first.headers["Location"] + "&gcLangTag=de-DE",
                       headers={"Sec-Fetch-Dest": "iframe"})
    page = offer.get_data(as_text=True)
    assert "Bei Coachwire anmelden" in page and 'lang="de"' in page


def test_expired_handovers_are_purged(app, client, db, sbx):
    from datetime import UTC, datetime, timedelta

    from extension.platform import sessions

    frame_offer(client)
    frame_offer(app.test_client())
    with db.session() as session:
        rows = list(session.scalars(select(SsoHandover)))
        assert len(rows) == 2
        rows[0].expires_at = datetime.now(UTC) - timedelta(minutes=1)
    with app.app_context():
        assert sessions.purge_expired()["states"] == 1
    with db.session() as session:
        assert len(list(session.scalars(select(SsoHandover)))) == 1


def test_an_expired_handover_cannot_be_claimed(app, client, db, sbx):
    from datetime import UTC, datetime, timedelta

    page, done, _ = whole_flow(app, client, sbx)
    with db.session() as session:
        session.scalars(select(SsoHandover)).one().expires_at = (
            datetime.now(UTC) - timedelta(seconds=1))
    late = client.post("/t/sbx/sso/handover", headers=SAME_ORIGIN,
                       data={"ticket": _input(page, "ticket"),
                             "code": _attr(done.get_data(as_text=True), "data-code")})
    assert late.status_code == 400
    assert client.get_cookie(SESSION_COOKIE) is None


def test_sign_on_refusals_speak_the_panels_language(client, db, sbx):
    """The language comes from gcLangTag, on the request or on the panel it signs in for."""
    from extension.platform.models.tenants import Tenant

    with db.session() as session:
        session.get(Tenant, "sbx").sso_client_id = None
    german_panel = quote(f"{HOME}?gcLangTag=de-DE", safe="")
    page = client.get(f"/t/sbx/sso/start?next={german_panel}", headers={"Accept": "text/html"})
    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert "Konflikt" in text and "Die Anmeldung ist für diese Organisation" in text
    problem = client.get(f"/t/sbx/sso/start?next={german_panel}",
                         headers={"Accept": "application/json"}).get_json()
    assert problem["title"] == "Konflikt"
    english = client.get(f"/t/sbx/sso/start?next={quote(HOME, safe='')}",
                         headers={"Accept": "application/json"}).get_json()
    assert english["title"] == "Conflict"
    assert client.get("/t/sbx/panels/nowhere?gcLangTag=de-DE",
                      headers={"Accept": "application/json"}).get_json()["detail"] == (
        "Dieses Panel gibt es nicht.")


def test_a_callback_refusal_speaks_the_language_of_the_panel_it_was_for(client, db, sbx):
    from extension.platform.models.tenants import Tenant

    german_panel = f"{HOME}?gcLangTag=de-DE"
    started = client.get(f"/t/sbx/sso/start?next={quote(german_panel, safe='')}")
    assert started.status_code == 302
    with db.session() as session:
        session.get(Tenant, "sbx").host_org_id = "another-org"
    refused = client.get(pick(started.headers["Location"], supervisor(sbx).id),
                         headers={"Accept": "text/html"})
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "Diese Genesys-Cloud-Organisation ist nicht die" in text and 'lang="de"' in text
