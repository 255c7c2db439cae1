"""Coachwire: the Flask application factory. It only wires; it does no I/O."""

from __future__ import annotations

import logging

from flask import Flask

from extension import config as config_module


def create_app(settings: config_module.Settings | None = None) -> Flask:
    settings = settings or config_module.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(SETTINGS=settings, SECRET_KEY=settings.secret_key,
                      MAX_CONTENT_LENGTH=settings.webhook_max_bytes * 2,
                      TESTING=settings.testing)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from extension import problems, queue
    from extension.crypto import SecretBox
    from extension.db import Database

    Database().init_app(app)
    app.extensions["coachwire.box"] = SecretBox(app.config["SETTINGS"].data_keys)
    from extension.services.analytics_peers import PeerCache

    app.extensions["coachwire.peers"] = PeerCache(app.config["SETTINGS"].peer_snapshot_seconds,
                                                  session_factory=app.extensions["coachwire.db"].session)
    queue.init_app(app)
    problems.init_app(app)
    from handlers.inbox import InboxWriter

    InboxWriter.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from extension.api import (
        alerts,
        calibrations,
        disputes,
        drilldown,
        evaluations,
        forecasts,
        forms,
        interaction_analytics,
        metrics,
        openapi,
        performance,
        sampling_plans,
        workload,
    )
    from extension.api.health import bp as health_bp
    from extension.api.install import bp as install_bp
    from extension.cli import register as register_cli
    from handlers.webhooks import bp as webhooks_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(install_bp)
    app.register_blueprint(webhooks_bp)
    for api in (metrics, performance, alerts, forecasts, drilldown, forms, evaluations, disputes,
                calibrations, workload, sampling_plans, interaction_analytics, openapi):
        app.register_blueprint(api.bp)
    register_cli(app)
