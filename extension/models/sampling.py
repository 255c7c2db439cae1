"""Sampling plans, their runs and picks; per-interaction text analytics results."""

from __future__ import annotations
