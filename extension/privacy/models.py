"""Privacy tables (none yet)."""
