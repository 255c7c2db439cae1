"""Analytics panels: an agent's performance (supervisors) and my performance (agents), trends,
and the drill-down list of the interactions behind a number. One module per page group, each
with its own blueprint; templates in ``templates/analytics/panels/``."""

from __future__ import annotations

MODULES = ("performance", "trends", "interactions")


def init_app(app) -> None:
    from importlib import import_module

    for name in MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
