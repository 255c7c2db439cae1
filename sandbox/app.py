"""The sandbox host's Flask app factory: wires the world, the areas and the controls."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from sandbox import (
    analytics,
    auth,
    calendars,
    coaching,
    console,
    control,
    directory,
    engagement,
    errors,
    faults,
    login,
    notifications,
    quality,
    sta,
    wfm,
)
from sandbox.state import Config, SandboxState
from sandbox.world import build_world


def create_app(*, seed: int = 7, now: datetime | None = None,
               config: Config | None = None) -> Flask:
    """`now` pins the clock (weeks, token and channel expiry) for deterministic tests."""
    app = Flask("sandbox")
    app.json.sort_keys = False
    config = config or Config()
    world = build_world(seed=seed, now=now, start_day=config.bu_start_day,
                        time_zone=config.bu_time_zone, schedule_weeks=config.schedule_weeks)
    app.extensions["sandbox"] = SandboxState(world=world, config=config, fixed_now=now)
    errors.register(app)
    app.before_request(auth.guard_api)
    faults.init_app(app)
    for blueprint in (auth.bp, login.bp, directory.bp, coaching.bp, wfm.bp, engagement.bp, calendars.bp,
                      control.bp, console.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(quality.bp)
    app.register_blueprint(sta.bp)
    notifications.init_app(app)
    return app
