"""Automated coaching: trigger policies, flags, the pattern rule and weekly cap, slot finding
(WFM data, staffing, scheduling), supervisor calendars, booking, recognition, tasks."""

from __future__ import annotations


def init_app(app) -> None:
    """Coaching has no HTTP surface or periodic job of its own yet: its work is driven by the
    conversation events it routes and its effect jobs. Its one command joins ``tenants``."""
    from extension.coaching import cli, events, panels  # noqa: F401  (cli adds tenants set-policy)

    events.register(app.extensions["coachwire.router"])
    panels.init_app(app)
