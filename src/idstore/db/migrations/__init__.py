"""Alembic migrations, applied at start by `idstore serve` and by `idstore migrate`."""
