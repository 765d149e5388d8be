"""Alembic's environment: runs migrations on the connection that ``migrate.py`` hands over.

There is no ``alembic.ini``: :func:`gateway.storage.migrate.upgrade` builds the Alembic
config in code and passes an open synchronous connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from gateway.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `o2c db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
