"""Calibration sessions: blind scoring of the same interactions by several evaluators."""

from __future__ import annotations
