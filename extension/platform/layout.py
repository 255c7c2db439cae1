"""The panels' page layout: the base template, the self-hosted front-end files and the language.

Templates live in ``extension/platform/templates/platform/``; every panel page extends
``platform/base.html``, which loads Spark (Genesys's web components, self-hosted from
``/assets/vendor/spark/``), htmx and the fonts from this origin only, each ``<script>``/``<style>``
carrying the response's CSP nonce (Spark reads it from ``<meta name="csp-nonce">``). The files
under ``static/vendor/`` come from ``npm ci`` at set-up (``scripts/static_assets.py``), never
from a CDN and never committed.

``lang``: the console's ``gcLangTag`` is user-editable, so it is only matched against the
languages the panels are written in; anything else (or nothing) is English.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, has_request_context, render_template, request, url_for
from flask_babel import Babel

bp = Blueprint("panel_assets", __name__, static_folder="static", static_url_path="/assets",
               template_folder="templates")

SUPPORTED_LANGS = ("en", "de")  # each capability keeps a catalogue per language (scripts/i18n.py)
DEFAULT_LANG = "en"
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}")


def negotiate_lang(tag: str | None) -> str:
    """The supported language for a BCP 47 tag such as ``gcLangTag``'s ``de-DE`` or ``en-us``;
    the default for anything unknown, malformed or too long (never an error)."""
    if not tag or len(tag) > 35 or not _TAG.fullmatch(tag):
        return DEFAULT_LANG
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED_LANGS else DEFAULT_LANG


def asset(path: str) -> str:
    return url_for("panel_assets.static", filename=path)


def render(template: str, *, nonce: str, lang_tag: str | None = None, **context: Any) -> str:
    """A panel page: ``nonce`` is the one in this response's CSP."""
    return render_template(template, nonce=nonce, lang=negotiate_lang(lang_tag), asset=asset,
                           **context)


def _locale() -> str:
    tag = request.args.get("gcLangTag") if has_request_context() else None
    return negotiate_lang(tag)


def _timezone() -> str:
    """The tenant's time zone on a panel request (set by ``panels.page``), else UTC."""
    return getattr(g, "panel_timezone", None) or "UTC"


def translation_directories() -> str:
    """Every capability's ``translations/`` folder (Flask-Babel merges their catalogues)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    return ";".join(str(p) for p in sorted(root.glob("*/translations")) if p.is_dir())


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translation_directories())
    Babel(app, locale_selector=_locale, timezone_selector=_timezone)
