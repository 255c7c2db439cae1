"""Intelligent sampling: the frame, risk rules, allocation, margins of error, plans and runs."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.sampling import api

    app.register_blueprint(api.bp)
