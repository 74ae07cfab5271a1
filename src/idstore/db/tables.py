"""The schema: every table carries `store_id` so that it can be distributed by store later."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from idstore.db.types import UtcDateTime, json_column_type

# The tables distributed by store on Citus (db/distribution.py) name `store_id` first in every
# primary key and unique constraint, and in every foreign key between them (migration 0013).


def _store_key(*columns: str) -> PrimaryKeyConstraint:
    return PrimaryKeyConstraint("store_id", *columns)


def _owned_by(column: str, parent: str) -> ForeignKeyConstraint:
    """(store_id, column) -> parent (store_id, id): a row of the parent's store, deleted with it."""
    return ForeignKeyConstraint(
        ["store_id", column], [f"{parent}.store_id", f"{parent}.id"], ondelete="CASCADE"
    )


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 36  # a UUID in its text form

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("lookup_id", String(32), nullable=False, unique=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(128)),
    Column("permissions", json_column_type(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("hash_key_id", String(32), nullable=False),
    Column("key_hash", LargeBinary, nullable=False),
    Column("is_bootstrap", Boolean, nullable=False, default=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    # Tokens issued before this instant are void (set when a key is unblocked).
    Column("tokens_not_before", UtcDateTime),
)

stores = Table(
    "stores",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", Text),
    Column("configuration", json_column_type(), nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name"),
)

totp_policies = Table(
    "totp_policies",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", Text),
    Column("algorithm", String(8), nullable=False),
    Column("digits", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("issuer", String(255)),
    Column("drift_steps", Integer, nullable=False),
    Column("secret_length", Integer),
    Column("registration_timeout_seconds", Integer, nullable=False),
    Column("allow_secret_retrieval", Boolean, nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(255), nullable=False),
    # The status an administrator set; a lock shows as TEMP_LOCKED / LOCKED on top of it.
    Column("status", String(16), nullable=False),
    Column("type", String(64)),
    Column("locale", String(35)),
    Column("timezone", String(64)),
    Column("first_name", String(255)),
    Column("last_name", String(255)),
    Column("email", String(320)),
    Column("date_of_birth", Date),
    Column("nationalities", json_column_type()),
    Column("attributes", json_column_type()),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    Column("last_successful_authentication_dtm", UtcDateTime),
    # Locking state lives on the user row, which every authentication locks first (FOR UPDATE).
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("lock_count", Integer, nullable=False, default=0),
    Column("temp_lock_streak", Integer, nullable=False, default=0),
    Column("lock_kind", String(16)),
    Column("locked_dtm", UtcDateTime),
    Column("unlock_dtm", UtcDateTime),
    Column("modality_locks", json_column_type(), nullable=False),
    # The per-user attempt rate limit: tokens left, as of when (a token bucket).
    Column("attempt_tokens", Float),
    Column("attempt_tokens_dtm", UtcDateTime),
    # Hash of the user's newest authentication audit record: the head of the user's chain.
    Column("audit_chain_head", String(64)),
    # How many records the chain holds, and a keyed hash over user, length and head.
    Column("audit_chain_length", Integer),
    Column("audit_chain_seal", String(64)),
    _store_key("id"),
    UniqueConstraint("store_id", "external_id"),
    Index("ix_users_store_id_created_dtm_id", "store_id", "created_dtm", "id"),
)

# How many users each store holds, so that a page of users need not count them all. Triggers on
# `users` (migration 0008) change it in the transaction that inserts or deletes users, whatever
# writes them; a store without a row holds no users.
store_user_counts = Table(
    "store_user_counts",
    metadata,
    Column(
        "store_id",
        String(ID),
        ForeignKey("stores.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_count", BigInteger, nullable=False),
)

user_totps = Table(
    "user_totps",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column(
        "policy_id", String(ID), ForeignKey("totp_policies.id", ondelete="CASCADE"), nullable=False
    ),
    Column("policy_name", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issuer", String(255), nullable=False),
    Column("username", String(255), nullable=False),
    Column("algorithm", String(8), nullable=False),
    Column("digits", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("secret_sealed", LargeBinary, nullable=False),
    # Highest time step accepted so far; a code is accepted only by raising it (replay guard).
    Column("last_used_step", BigInteger, nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    Column("activated_dtm", UtcDateTime),
    Column("expiration_dtm", UtcDateTime),
    Column("last_authenticated_with_dtm", UtcDateTime),
    _store_key("id"),
    UniqueConstraint("store_id", "user_id", "policy_id"),
    _owned_by("user_id", "users"),
    Index("ix_user_totps_policy_id", "policy_id"),
)

# Audit records outlive their user and store: no foreign keys, nothing cascades into them.
authentication_audit = Table(
    "authentication_audit",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("store_id", String(ID), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("type", String(16), nullable=False),
    Column("result", String(8), nullable=False),
    Column("error_code", Integer),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("details", json_column_type(), nullable=False),
    Column("request_id", String(128)),
    # The user's chain: a keyed hash over this record and the previous one's hash.
    Column("chain_key_id", String(32)),
    Column("chain_previous", String(64)),
    Column("chain_hash", String(64)),
    _store_key("id"),
    # A user's records in order; type and result ride along so that counting a user's records,
    # filtered or not, reads the index alone (migration 0009).
    Index(
        "ix_authentication_audit_store_id_user_id_created_dtm_id",
        "store_id",
        "user_id",
        "created_dtm",
        "id",
        postgresql_include=["type", "result"],
    ),
    Index("ix_authentication_audit_store_id_created_dtm", "store_id", "created_dtm"),
)

# Changes callers made (spec: an auditor can tell who changed what). Like the authentication
# audit, it outlives what it describes: no foreign keys.
admin_events = Table(
    "admin_events",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("store_id", String(ID)),
    Column("caller_id", String(ID), nullable=False),
    Column("request_id", String(128)),
    Column("kind", String(48), nullable=False),
    Column("subject_id", String(ID)),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("details", json_column_type(), nullable=False),
    Index("ix_admin_events_tenant_id_created_dtm_id", "tenant_id", "created_dtm", "id"),
    Index("ix_admin_events_store_id_created_dtm", "store_id", "created_dtm"),
)

# A relying party's passkey settings (spec §9); its policies are small maps kept as JSON.
passkey_configs = Table(
    "passkey_configs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("rp_name", String(255), nullable=False),
    Column("restricted_origins", json_column_type(), nullable=False),
    Column("session_management", String(16), nullable=False),
    Column("registration_policies", json_column_type(), nullable=False),
    Column("authentication_policies", json_column_type(), nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "rp_id"),
)

user_passkeys = Table(
    "user_passkeys",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("rp_id", String(253), nullable=False),
    # base64url of the credential id (at most 1023 bytes by WebAuthn level 3).
    Column("credential_id", String(1400), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("algorithm", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    # Highest counter accepted; an assertion is accepted only by raising it (or both 0).
    Column("sign_count", BigInteger, nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("transports", json_column_type(), nullable=False),
    Column("backup_eligible", Boolean, nullable=False),
    Column("backup_state", Boolean, nullable=False),
    Column("user_handle", String(64), nullable=False),
    # How it was registered (registrationAudit): format, origin, flags, policy.
    Column("registration_audit", json_column_type(), nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    Column("last_authenticated_with_dtm", UtcDateTime),
    _store_key("id"),
    UniqueConstraint("store_id", "rp_id", "credential_id"),
    _owned_by("user_id", "users"),
    Index("ix_user_passkeys_user_id", "user_id"),
)

# Which user a WebAuthn user handle names, per relying party: discoverable sign-in finds the user
# by it, so the primary key makes the database refuse a second user with the same handle, across
# processes (migration 0014). A user's passkeys of one relying party share one row; a row outlives
# the passkeys, so a handle once given never passes to another user.
passkey_user_handles = Table(
    "passkey_user_handles",
    metadata,
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("user_handle", String(64), nullable=False),
    Column("user_id", String(ID), nullable=False),
    _store_key("rp_id", "user_handle"),
    _owned_by("user_id", "users"),
    Index("ix_passkey_user_handles_store_id_user_id", "store_id", "user_id"),
)


def ceremony_sessions(name: str) -> Table:
    """An authenticator kind's ceremonies under way (services/ceremony_sessions.py). INTERNAL
    sessions keep their sealed state here; EXTERNAL ones keep it in the caller's sessionData, and
    the row only makes that sessionData single use."""
    return Table(
        name,
        metadata,
        Column("id", String(ID), nullable=False),
        Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
        Column("user_id", String(ID)),
        Column("rp_id", String(253), nullable=False),
        Column("ceremony", String(16), nullable=False),
        Column("state_sealed", LargeBinary),
        Column("created_dtm", UtcDateTime, nullable=False),
        Column("expiration_dtm", UtcDateTime, nullable=False),
        _store_key("id"),
        # A session without a user yet (a discoverable passkey) is not checked: MATCH SIMPLE.
        _owned_by("user_id", "users"),
        Index(f"ix_{name}_expiration_dtm", "expiration_dtm"),
    )


passkey_sessions = ceremony_sessions("passkey_sessions")

# A relying party's appkey settings (spec §10); its facets and policies are small JSON documents.
appkey_configs = Table(
    "appkey_configs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("trusted_facets", json_column_type(), nullable=False),
    Column("session_management", String(16), nullable=False),
    Column("single_shot_window_seconds", Integer, nullable=False),
    Column("registration_policies", json_column_type(), nullable=False),
    Column("authentication_policies", json_column_type(), nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "rp_id"),
)

# A UAF key an app made on a user's device; `key_id` is the authenticator's KeyID in base64url.
user_appkeys = Table(
    "user_appkeys",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("aaid", String(9), nullable=False),
    Column("key_id", String(512), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("device_id", String(255)),
    Column("device_name", String(255)),
    Column("status", String(16), nullable=False),
    # Highest counter accepted; an assertion is accepted only by raising it (or both 0).
    Column("sign_count", BigInteger, nullable=False),
    # DER SubjectPublicKeyInfo, whatever encoding the authenticator sent it in.
    Column("public_key", LargeBinary, nullable=False),
    # The FIDO registry's ALG_SIGN_* number.
    Column("signature_algorithm", Integer, nullable=False),
    Column("attestation_type", String(32), nullable=False),
    # How it was registered (registrationAudit): AAID, attestation, facet, device, version.
    Column("registration_audit", json_column_type(), nullable=False),
    Column("preferred", Boolean, nullable=False),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    Column("last_authenticated_with_dtm", UtcDateTime),
    _store_key("id"),
    UniqueConstraint("store_id", "rp_id", "aaid", "key_id"),
    _owned_by("user_id", "users"),
    Index("ix_user_appkeys_store_id_user_id", "store_id", "user_id"),
)

appkey_sessions = ceremony_sessions("appkey_sessions")

# Single-shot challenges a key has had accepted: the primary key refuses a second acceptance,
# in whichever process it comes. Rows older than the window can no longer match and are swept.
appkey_single_shot_challenges = Table(
    "appkey_single_shot_challenges",
    metadata,
    Column("appkey_id", String(ID), nullable=False),
    Column("challenge", String(64), nullable=False),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("accepted_dtm", UtcDateTime, nullable=False),
    _store_key("appkey_id", "challenge"),
    _owned_by("appkey_id", "user_appkeys"),
)

# A user's face (spec §11): one per user, type and subtype; a re-enrolment replaces the template.
# Template and image are sealed with the key ring, the row id as associated data; the image is
# kept only when the store's `faceRetainImages` is true.
user_biometrics = Table(
    "user_biometrics",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("type", String(16), nullable=False),
    Column("subtype", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("template_sealed", LargeBinary, nullable=False),
    Column("quality", Float, nullable=False),
    Column("model", String(64), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("image_sealed", LargeBinary),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("last_updated_dtm", UtcDateTime, nullable=False),
    _store_key("id"),
    UniqueConstraint("store_id", "user_id", "type", "subtype"),
    _owned_by("user_id", "users"),
)
