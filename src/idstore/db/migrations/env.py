"""Alembic environment: runs on the connection `idstore.db.migrate` hands it."""

from __future__ import annotations

from alembic import context

from idstore.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `idstore migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # idstore.db.migrate hears of each revision applied (for progress and its count).
    on_version_apply=context.config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
