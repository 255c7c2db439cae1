"""Quality management: forms, scoring and auto-score, evaluations (ours and the host's mirrored),
disputes, evaluator workload, calibration."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.quality import events
    from extension.quality.api import calibrations, disputes, evaluations, forms, workload

    events.register(app.extensions["coachwire.router"])

    for api in (forms, evaluations, disputes, calibrations, workload):
        app.register_blueprint(api.bp)
