"""Alembic migrations; run through occur.store.migrate, never by hand-written SQL."""
