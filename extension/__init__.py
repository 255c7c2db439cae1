"""Coachwire: the Flask application factory. It only wires; it does no I/O."""

from __future__ import annotations

import logging

from flask import Flask
from flask.sessions import SessionInterface

from extension import config as config_module


def create_app(settings: config_module.Settings | None = None) -> Flask:
    settings = settings or config_module.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(SETTINGS=settings, SECRET_KEY=settings.secret_key,
                      MAX_CONTENT_LENGTH=settings.webhook_max_bytes * 2,
                      TESTING=settings.testing)
    app.session_interface = NoCookieSessions()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _init_extensions(app)
    _register_blueprints(app)
    from handlers.webhooks import WebhookReceiver

    # The webhook hot path is answered in front of Flask (why: handlers/webhooks.py).
    app.wsgi_app = WebhookReceiver(app, app.wsgi_app)
    return app


class NoCookieSessions(SessionInterface):
    """Coachwire keeps no cookie sessions: API calls and panels carry bearer tokens. Flask's
    default would still open (and sign-check) a cookie session on every request, webhooks
    included; this answers with Flask's null session, which refuses writes."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        return None


def _init_extensions(app: Flask) -> None:
    from extension import problems, queue
    from extension.crypto import SecretBox
    from extension.db import Database

    Database().init_app(app)
    app.extensions["coachwire.box"] = SecretBox(app.config["SETTINGS"].data_keys)
    from extension.analytics.peers import PeerCache

    app.extensions["coachwire.peers"] = PeerCache(app.config["SETTINGS"].peer_snapshot_seconds,
                                                  session_factory=app.extensions["coachwire.db"].session)
    queue.init_app(app)
    problems.init_app(app)
    from handlers.inbox import InboxWriter

    InboxWriter.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from extension.analytics.api import alerts, drilldown, forecasts, metrics, performance
    from extension.api import directory, openapi
    from extension.api.health import bp as health_bp
    from extension.api.install import bp as install_bp
    from extension.cli import register as register_cli
    from extension.quality.api import calibrations, disputes, evaluations, forms, workload
    from extension.sampling import api as sampling_plans
    from extension.text.api import interaction_analytics, phrase_lists

    app.register_blueprint(health_bp)
    app.register_blueprint(install_bp)
    for api in (metrics, performance, alerts, forecasts, drilldown, forms, evaluations, disputes,
                calibrations, workload, sampling_plans, interaction_analytics, phrase_lists, openapi):
        app.register_blueprint(api.bp)
    app.register_blueprint(directory.bp)
    register_cli(app)
