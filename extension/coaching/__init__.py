"""Automated coaching: trigger policies, flags, the pattern rule and weekly cap, slot finding
(WFM data, staffing, scheduling), supervisor calendars, booking, recognition, tasks."""

from __future__ import annotations


def init_app(app) -> None:
    """Coaching's work is driven by the conversation events it routes and its effect jobs; its
    HTTP surface is the panels and ``POST /api/v1/text/analyse``; ``tenants set-policy`` joins the
    platform's tenants group and ``text analyse`` is its own."""
    from extension.coaching import cli, events, panels
    from extension.coaching.api import analyse

    events.register(app.extensions["coachwire.router"])
    panels.init_app(app)
    app.register_blueprint(analyse.bp)
    app.cli.add_command(cli.text_cli)
