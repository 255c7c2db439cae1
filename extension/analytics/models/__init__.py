"""Analytics tables: interactions and their facts, daily rollups, alerts and their delivery,
outcome models, sync cursors and per-tenant analytics settings."""

from extension.analytics.models import delivery, facts, interactions, sync  # noqa: F401  (register tables)
