"""flask commands for quality management (forms import, sampling runs, calibration reports)."""

from __future__ import annotations

from flask.cli import AppGroup

quality_cli = AppGroup("quality", help="Quality management: forms, sampling, calibration.")
