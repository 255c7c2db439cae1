"""Coaching panel pages: home (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coaching_panels_home", __name__, template_folder="templates")
