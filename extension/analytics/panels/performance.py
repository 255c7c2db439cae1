"""Analytics panel pages: performance (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("analytics_panels_performance", __name__, template_folder="templates")
