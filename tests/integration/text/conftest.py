"""Fixtures shared by the quality-management integration tests (see tests/integration/sampling/world.py)."""

from tests.integration.sampling.world import form_id, settings, token_for, world  # noqa: F401
