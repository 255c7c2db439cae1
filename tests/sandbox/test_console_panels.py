"""The sandbox console that frames Coachwire's panels as Genesys Cloud frames a client app."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.app import create_app
from sandbox.console import FRAME_SANDBOX, panel_url, sign_in_url
from sandbox.state import Config


@pytest.fixture
def console():
    app = create_app(seed=3, config=Config(panels_url="http://127.0.0.1:5000/t/demo/"))
    return app.test_client()


def _frame(html: str) -> tuple[str, str]:
    tag = re.search(r"<iframe\b[^>]*>", html).group(0)
    src = re.search(r'src="([^"]+)"', tag).group(1).replace("&amp;", "&")
    return src, re.search(r'sandbox="([^"]+)"', tag).group(1)


def test_the_console_frames_the_panel_with_the_gc_parameters_filled_in(console):
    page = console.get("/sandbox/console?view=agents&lang=de-de",
                       base_url="http://localhost:5050")
    assert page.status_code == 200
    src, sandbox = _frame(page.get_data(as_text=True))
    parts = urlsplit(src)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:5000/t/demo/panels/agents"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {"gcHostOrigin": "http://localhost:5050", "gcTargetEnv": "sandbox",
                     "gcLangTag": "de-de", "gcUsePopupAuth": "false"}
    assert sandbox == FRAME_SANDBOX
    assert "allow-top-navigation" not in sandbox
    assert {"allow-scripts", "allow-same-origin", "allow-forms", "allow-popups"} <= set(sandbox.split())


def test_unknown_views_and_languages_fall_back_and_nothing_is_injected(console):
    page = console.get('/sandbox/console?view="><script>&lang=xx"', base_url="http://localhost:5050")
    html = page.get_data(as_text=True)
    assert "<script>" not in html
    src, _ = _frame(html)
    assert "/panels/home?" in src and "gcLangTag=en-us" in src


def test_signing_in_again_goes_through_coachwire_sign_on_back_to_the_panel(console):
    page = console.get("/sandbox/console?signin=1", base_url="http://localhost:5050")
    src, _ = _frame(page.get_data(as_text=True))
    assert src.startswith("http://127.0.0.1:5000/t/demo/sso/start?next=%2Ft%2Fdemo%2Fpanels%2Fhome%3F")
    url = panel_url("http://x/t/a", "home", host_origin="http://h", lang="en-us")
    back = parse_qs(urlsplit(sign_in_url(url)).query)["next"][0]
    assert back == urlsplit(url).path + "?" + urlsplit(url).query


def test_without_panels_the_console_says_how_to_set_them():
    client = create_app(seed=3).test_client()
    html = client.get("/sandbox/console").get_data(as_text=True)
    assert "<iframe" not in html and "--panels-url" in html
