"""Analytics panel pages: interactions (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("analytics_panels_interactions", __name__, template_folder="templates")
