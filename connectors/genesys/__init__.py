"""Genesys Cloud Platform API connector (paths and bodies as in shared/reference)."""

from connectors.genesys.client import GenesysClient
from connectors.genesys.regions import bases_for, login_base_for

__all__ = ["GenesysClient", "bases_for", "login_base_for"]
