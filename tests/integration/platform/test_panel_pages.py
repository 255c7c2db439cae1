"""The page frame every capability's panels use (extension.platform.panels.page): sign-on
redirect, stored-role check, outside-the-console answer, htmx partials, CSP and links."""

from __future__ import annotations

import pytest
from flask import Blueprint

from extension.platform.auth.permissions import ANALYTICS_READ, SETTINGS_WRITE
from extension.platform.panels import page
from tests.factories import add_people, add_tenant, panel_session

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}


@pytest.fixture
def app(app, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "probe.html").write_text(
        '{% extends "platform/page.html" %}{% block panel %}<p>outside</p>'
        '{% block inner %}<p id="inner">{{ who }} {{ p.url("probe", x=1) }}</p>{% endblock %}'
        '{% endblock %}')
    bp = Blueprint("probe_panels", __name__, template_folder=str(templates))

    @page(bp, "/probe", view="home", permission=ANALYTICS_READ)
    def probe(p):
        return p.render("probe.html", block="inner", title="Probe", who=p.principal.person_id)

    @page(bp, "/probe-admin", view="settings", permission=SETTINGS_WRITE)
    def probe_admin(p):
        return p.render("probe.html", title="Admin probe", who="admin")

    app.register_blueprint(bp)
    return app


@pytest.fixture
def people(app, db):
    add_tenant(db, "acme")
    add_people(db, "acme", [("a1", "agent", "t1", "s1"), ("s1", "supervisor", "t1", None)])
    return "acme"


def test_without_a_session_the_page_goes_to_sign_on_and_back(client, people):
    answer = client.get("/t/acme/panels/probe?gcLangTag=de-DE", headers=FRAME)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/t/acme/sso/start?next=%2Ft%2Facme%2Fpanels%2Fprobe")


def test_the_signed_in_person_sees_the_page_with_csp_and_no_store(app, client, people):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/probe?gcLangTag=de-DE", headers=FRAME)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "outside" in html and 's1 /t/acme/panels/probe?gcLangTag=de-DE&amp;x=1' in html
    assert answer.headers["Cache-Control"] == "no-store"
    csp = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors" in csp and "'nonce-" in csp


def test_an_htmx_request_gets_only_the_block(app, client, people):
    headers = panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/probe", headers=headers)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and '<p id="inner">s1' in html
    assert "outside" not in html and "<html" not in html


def test_the_stored_role_decides(app, client, people):
    panel_session(app, client, "a1")
    assert client.get("/t/acme/panels/probe", headers=FRAME).status_code == 200
    refused = client.get("/t/acme/panels/probe-admin", headers={**FRAME, "Accept": "text/html"})
    assert refused.status_code == 403 and "Agent" in refused.get_data(as_text=True)


def test_a_page_opened_outside_the_console_says_where_it_lives(app, client, people):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/probe", headers={"Sec-Fetch-Dest": "document"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Open Coachwire in Genesys Cloud" in html
    assert 'id="inner"' not in html


def test_an_htmx_request_after_the_session_ended_is_a_401_not_a_redirect(client, people):
    answer = client.get("/t/acme/panels/probe", headers={"HX-Request": "true"})
    assert answer.status_code == 401


@pytest.mark.parametrize("tag, expected", [("de-DE", "Angemeldet als"), ("de", "Angemeldet als"),
                                           ("en-US", "Signed in as"), ("xx-YY", "Signed in as"),
                                           ("<script>", "Signed in as")])
def test_the_console_language_picks_the_catalogue_and_an_unknown_one_is_english(
        app, client, people, tag, expected):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/probe", query_string={"gcLangTag": tag}, headers=FRAME)
    assert answer.status_code == 200 and expected in answer.get_data(as_text=True)


def test_every_panel_the_navigation_names_has_its_own_page(app):
    from extension.platform.shell import PANEL_VIEWS

    rules = {rule.rule for rule in app.url_map.iter_rules()}
    missing = [view for view in PANEL_VIEWS if f"/t/<tenant_id>/panels/{view}" not in rules]
    assert not missing, f"views without a page: {missing}"


def test_an_unknown_panel_is_a_404_page(app, client, people):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/nothing-here", headers={**FRAME, "Accept": "text/html"})
    assert answer.status_code == 404 and "No such panel" in answer.get_data(as_text=True)
