"""The platform every capability stands on: configuration, database, queue and worker, secrets,
errors, authentication and scope, tenants, people and directory, audit, host clients, health,
install, the OpenAPI document, logging and the Prometheus metrics."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.platform import (
        audit,
        csrf,
        headers,
        logs,
        metrics,
        problems,
        queue,
        sessions,
        shell,
        worker,
    )
    from extension.platform.api import directory, health, install, openapi
    from extension.platform.api import people as people_api
    from extension.platform.cli import register
    from extension.platform.crypto import SecretBox
    from extension.platform.db import Database
    from extension.platform.directory import SYNC_EVERY_SECONDS, sync_all
    from extension.platform.router import Router
    from extension.platform.worker import add_periodic

    logs.init_app(app)
    Database().init_app(app)
    app.extensions["coachwire.box"] = SecretBox(app.config["SETTINGS"].data_keys)
    queue.init_app(app)
    problems.init_app(app)
    headers.init_app(app)
    csrf.init_app(app)  # panel-cookie requests: Fetch Metadata and the CSRF token
    app.extensions["coachwire.router"] = Router()  # event routes: each capability adds its own
    for api in (health, install, openapi, directory, people_api):
        app.register_blueprint(api.bp)
    shell.init_app(app)  # sign-on, panel sessions, the page shell
    add_periodic(app, sessions.purge_expired, sessions.PURGE_EVERY_SECONDS)
    metrics.init_app(app)  # /metrics
    register(app)
    add_periodic(app, sync_all, SYNC_EVERY_SECONDS)
    worker.init_app(app)
    app.extensions["coachwire.audit_alerts"] = []  # audit.add_alert_hook
    add_periodic(app, audit.verify_all, app.config["SETTINGS"].audit_verify_seconds)
