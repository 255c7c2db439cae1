"""Privacy: the data map, subject access (export), erasure and retention per data class."""

from __future__ import annotations


def init_app(app) -> None:
    """Nothing to register yet: the data map is data (extension.privacy.domain.datamap)."""
