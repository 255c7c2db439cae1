"""Coaching panels: the supervisor's team home, the agent directory (with coaching status) and
the interaction widget (flags and why, "add to coaching"). One module per page group, each with
its own blueprint; templates in ``templates/coaching/panels/``."""

from __future__ import annotations

MODULES = ("home", "agents", "interaction")


def init_app(app) -> None:
    from importlib import import_module

    for name in MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
