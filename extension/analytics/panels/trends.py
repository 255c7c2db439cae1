"""Analytics panel pages: trends (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("analytics_panels_trends", __name__, template_folder="templates")
