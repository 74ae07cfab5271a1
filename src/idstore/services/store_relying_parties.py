"""The relying parties a store create or update gives in `configuration.passkeyPolicies` and
`configuration.appkeyPolicies` (spec §3): each entry creates or updates that relying party's
configuration as `…/passkeyConfig` and `…/appkeyConfig` do, in the store's transaction, so that
an entry refused leaves the store as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.services.appkey_configs import APPKEY_CONFIGS
from idstore.services.context import Context
from idstore.services.errors import FieldError, IdstoreError, PermissionDenied
from idstore.services.passkey_configs import PASSKEY_CONFIGS
from idstore.services.relying_party_configs import Config, ConfigChanges, ConfigKind

PASSKEY_FIELD = "configuration.passkeyPolicies"
APPKEY_FIELD = "configuration.appkeyPolicies"


def _refuse_all(operation: str) -> None:
    raise PermissionDenied(f"{operation} is not allowed here")


@dataclass(frozen=True)
class RelyingPartyChanges:
    """The entries of the two maps by rpId, each as the fields it gave, and who may write them:
    `authorize(operation)` raises PermissionDenied (9004) unless the caller holds the
    permission the configuration route of that write checks (a store body is no way around it)."""

    passkey: dict[str, ConfigChanges] = field(default_factory=dict)
    appkey: dict[str, ConfigChanges] = field(default_factory=dict)
    authorize: Callable[[str], None] = _refuse_all


async def apply_relying_parties(
    conn: AsyncConnection, ctx: Context, *, store_id: str, changes: RelyingPartyChanges
) -> None:
    """Create or update each relying party given; those absent are untouched. Raises what the
    configuration routes raise (3600, 3607, 3700, 9002…), fields named by their path in the
    store's body."""
    authorize = changes.authorize
    await _put_each(conn, ctx, PASSKEY_CONFIGS, PASSKEY_FIELD, store_id, changes.passkey, authorize)
    await _put_each(conn, ctx, APPKEY_CONFIGS, APPKEY_FIELD, store_id, changes.appkey, authorize)


async def _put_each(
    conn: AsyncConnection,
    ctx: Context,
    kind: ConfigKind[Config],
    field_path: str,
    store_id: str,
    entries: dict[str, ConfigChanges],
    authorize: Callable[[str], None],
) -> None:
    for rp_id, config_changes in entries.items():
        try:
            await kind.put(
                conn,
                ctx,
                store_id=store_id,
                rp_id=rp_id,
                changes=config_changes,
                authorize=authorize,
            )
        except IdstoreError as error:
            _name_within(error, f"{field_path}.{rp_id}")
            raise


def _name_within(error: IdstoreError, prefix: str) -> None:
    """Name the refusal's fields as the store's body spells them: `restrictedOrigins[0]` of
    entry `example.com` is `configuration.passkeyPolicies.example.com.restrictedOrigins[0]`.
    A refusal naming no field (3607) names the entry in its message: a body may hold many."""
    if not error.field_errors:
        error.message = f"{prefix}: {error.message}"
        return
    first = error.field_errors[0].field
    if error.message.startswith(f"{first}:"):
        error.message = f"{prefix}.{error.message}"
    error.field_errors = tuple(
        FieldError(f"{prefix}.{item.field}", item.message) for item in error.field_errors
    )
