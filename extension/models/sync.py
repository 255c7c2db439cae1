"""History sync from the host: per-tenant cursors and runs."""

from __future__ import annotations
