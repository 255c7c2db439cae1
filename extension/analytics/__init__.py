"""Agent performance analytics: facts and rollups, KPIs and AES, peers and ranking, performance
views and drill-down, forecasts, the outcome model, FCR, history sync, alerts and their delivery."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.analytics import alert_delivery, fcr, panels
    from extension.analytics.api import alerts, drilldown, forecasts, metrics, performance
    from extension.analytics.cli import analytics_cli, demo_data_command
    from extension.analytics.peers import PeerCache
    from extension.analytics.sync_cli import sync_cli
    from extension.platform.worker import add_periodic

    settings = app.config["SETTINGS"]
    app.extensions["coachwire.peers"] = PeerCache(settings.peer_snapshot_seconds,
                                                  session_factory=app.extensions["coachwire.db"].session)
    for api in (metrics, performance, alerts, forecasts, drilldown):
        app.register_blueprint(api.bp)
    panels.init_app(app)
    for command in (sync_cli, analytics_cli, demo_data_command):
        app.cli.add_command(command)
    add_periodic(app, alert_delivery.sweep, settings.sweep_seconds)
    add_periodic(app, alert_delivery.evaluate_all, 3600)
    add_periodic(app, fcr.finalize_all, 3600)
    # peer snapshots of the pages' standard ranges, precomputed so no request sums the peers
    from extension.analytics import snapshots
    add_periodic(app, snapshots.refresh_all, snapshots.REFRESH_SECONDS)
