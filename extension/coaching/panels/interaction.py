"""Coaching panel pages: interaction (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coaching_panels_interaction", __name__, template_folder="templates")
