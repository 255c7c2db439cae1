"""Coaching panel pages: agents (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coaching_panels_agents", __name__, template_folder="templates")
