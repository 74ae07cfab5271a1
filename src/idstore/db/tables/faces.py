"""Faces (spec §11)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from idstore.db.tables.base import ID, metadata, owned_by, store_column, store_key, timestamps

# A user's face (spec §11): one per user, type and subtype; a re-enrolment replaces the template.
# Template and image are sealed with the key ring, the row id as associated data; the image is
# kept only when the store's `faceRetainImages` is true.
user_biometrics = Table(
    "user_biometrics",
    metadata,
    Column("id", String(ID), nullable=False),
    store_column(),
    Column("user_id", String(ID), nullable=False),
    Column("type", String(16), nullable=False),
    Column("subtype", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("template_sealed", LargeBinary, nullable=False),
    Column("quality", Float, nullable=False),
    Column("model", String(64), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("image_sealed", LargeBinary),
    *timestamps(),
    store_key("id"),
    UniqueConstraint("store_id", "user_id", "type", "subtype"),
    owned_by("user_id", "users"),
)
