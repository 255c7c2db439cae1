"""Authentication and authorization: API tokens, the permission table, tenant and role scope."""

from extension.platform.auth.permissions import PERMISSIONS, Principal, allowed

__all__ = ["PERMISSIONS", "Principal", "allowed"]
