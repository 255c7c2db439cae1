"""The panels' page layout: language negotiation and the nonce on every script and style."""

from __future__ import annotations

import re

import pytest

from extension.platform import layout


@pytest.mark.parametrize(("tag", "lang"), [
    ("en-us", "en"), ("en-GB", "en"), ("EN", "en"), ("en_US", "en"),
    (None, "en"), ("", "en"), ("xx-YY", "en"), ("de-DE", "de"), ("de_at", "de"), ("fr-FR", "en"),
    ("en-us\"><script>", "en"), ("a" * 200, "en"), ("../../etc", "en"), ("zh-Hant-TW", "en"),
])
def test_the_language_is_negotiated_against_the_supported_list(tag, lang):
    assert layout.negotiate_lang(tag) == lang


def test_a_supported_language_other_than_the_default_is_kept(monkeypatch):
    monkeypatch.setattr(layout, "SUPPORTED_LANGS", ("en", "de"))
    assert layout.negotiate_lang("de-AT") == "de"
    assert layout.negotiate_lang("fr-FR") == "en"


def test_every_script_and_style_carries_the_nonce_and_comes_from_this_origin(app):
    with app.test_request_context("/t/x/panels/home"):
        html = layout.render("platform/page.html", nonce="n0nce", lang_tag="en-US", view="home",
                             title="Home", name="Ann <b>", role="Agent")
    assert '<html lang="en">' in html
    assert '<meta name="csp-nonce" content="n0nce">' in html
    tags = re.findall(r"<(script|style|link)\b[^>]*>", html)
    assert len(tags) >= 8
    for tag in re.finditer(r"<(?:script|style|link)\b[^>]*>", html):
        assert 'nonce="n0nce"' in tag.group(0), tag.group(0)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/assets/") for s in sources)
    assert "/assets/vendor/spark/genesys-webcomponents.esm.js" in sources
    assert "/assets/vendor/htmx/htmx.min.js" in sources
    assert "Ann &lt;b&gt;" in html  # autoescaped
