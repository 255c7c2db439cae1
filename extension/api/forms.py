"""/api/v1 views (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_forms", __name__, url_prefix="/api/v1")
