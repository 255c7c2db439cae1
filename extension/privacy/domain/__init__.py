"""Pure privacy logic: the data map, scrubbing of stored values (no Flask, SQLAlchemy or I/O)."""
