"""Analytics tables: interactions and their facts, daily rollups, alerts and their delivery,
outcome models, sync cursors and per-tenant analytics settings."""

from extension.analytics.models import (  # noqa: F401  (register tables)
    delivery,
    facts,
    interactions,
    snapshots,
    sync,
)
