"""Alembic migrations: ``env.py`` and ``versions/``, run through :mod:`gateway.storage.migrate`.

Nothing here is imported by the application; Alembic loads these scripts itself.
"""
