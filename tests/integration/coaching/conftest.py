"""The sandbox host on a loopback port and a tenant pointing at it (the end-to-end fixtures)."""

from tests.e2e.conftest import host_tenant, sandbox  # noqa: F401  (pytest fixtures)
