"""Routes for stores and their TOTP policies (spec §3, §5.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from idstore.api.common import answers, page_request
from idstore.api.examples import errors as error_examples
from idstore.api.examples import stores as examples
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import page_out, policy_out, store_out
from idstore.api.relying_party_configs import check_path_rp_id, config_changes
from idstore.api.routing import PathPolicyName, PathText, segment
from idstore.api.runtime import RuntimeDep, caller_for, context_for, context_of
from idstore.api.schemas.appkeys import AppkeyConfigPatch
from idstore.api.schemas.common import PageOut
from idstore.api.schemas.passkeys import PasskeyConfigPatch
from idstore.api.schemas.stores import (
    StoreIn,
    StoreOut,
    StorePatch,
    TotpPolicyIn,
    TotpPolicyOut,
    TotpPolicyPatch,
)
from idstore.services import policies, stores
from idstore.services.appkey_management_errors import AppkeyConfigExists
from idstore.services.callers import Caller
from idstore.services.configuration import ConfigurationChanges, LockingChanges
from idstore.services.context import Context
from idstore.services.errors import (
    InvalidField,
    PolicyInUse,
    PolicyNameTaken,
    PolicyNotFound,
    StoreNameTaken,
    StoreNotEmpty,
    StoreNotFound,
)
from idstore.services.paging import PageRequest
from idstore.services.passkey_errors import PasskeyConfigExists, RelyingPartyIdRefused
from idstore.services.policies import PolicyChanges
from idstore.services.relying_party_configs import ConfigChanges
from idstore.services.store_relying_parties import (
    APPKEY_FIELD,
    PASSKEY_FIELD,
    RelyingPartyChanges,
)
from idstore.services.stores import StoreChanges

router = APIRouter(prefix="/api/identity-store/stores", tags=["stores"], route_class=JsonBodyRoute)
policy_router = APIRouter(
    prefix="/api/identity-store/stores", tags=["TOTP policies"], route_class=JsonBodyRoute
)

STORE = segment("storeName")
POLICY = segment("policyName")
Force = Annotated[bool, Query(description="Also delete what the resource still holds.")]


@router.post(
    "",
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(
        examples.STORE,
        StoreNameTaken,
        examples.INVALID_NAME,
        RelyingPartyIdRefused,
        status=201,
    ),
    operation_id="createStore",
)
async def create_store(
    body: Annotated[StoreIn, Body(openapi_examples=examples.STORE_IN)],
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("createStore")],
) -> StoreOut:
    """Create a store, optionally with its configuration and TOTP policies (and relying
    parties, for a caller that may also create their configurations)."""
    ctx = context_of(caller, request, run)
    changes = _store_changes(body, caller)
    store = await stores.create_store(run.database, ctx, name=body.name, changes=changes)
    return store_out(store)


@router.get(
    "",
    response_model_exclude_none=True,
    responses=answers(examples.STORES_PAGE, error_examples.PAGE_TOO_LARGE),
    operation_id="listStores",
)
async def list_stores(
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listStores")],
    paging: Annotated[PageRequest, Depends(page_request)],
) -> PageOut[StoreOut]:
    """The caller's stores, one page."""
    return page_out(await stores.list_stores(run.database, ctx, paging), store_out)


@router.get(
    f"/{STORE}",
    response_model_exclude_none=True,
    responses=answers(examples.STORE, StoreNotFound, error_examples.NUL_IN_STORE_NAME),
    operation_id="getStore",
)
async def get_store(
    storeName: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getStore")],
) -> StoreOut:
    """One store with its configuration."""
    return store_out(await stores.get_store(run.database, ctx, name=storeName))


@router.post(
    f"/{STORE}",
    response_model_exclude_none=True,
    # 3600 and 3700: an entry creating a relying party that …/passkeyConfig or …/appkeyConfig
    # created meanwhile.
    responses=answers(
        examples.UPDATED_STORE,
        StoreNotFound,
        examples.INVALID_THRESHOLD,
        RelyingPartyIdRefused,
        PasskeyConfigExists,
        AppkeyConfigExists,
    ),
    operation_id="updateStore",
)
async def update_store(
    storeName: PathText,
    body: Annotated[StorePatch, Body(openapi_examples=examples.STORE_PATCH)],
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("updateStore")],
) -> StoreOut:
    """Merge the given description and configuration into the store, field by field. A
    relying party given is created or changed only for a caller whose permissions its
    configuration route would take (403 otherwise)."""
    if body.name is not None and body.name != storeName:
        raise InvalidField.of("name", "a store cannot be renamed")
    ctx = context_of(caller, request, run)
    changes = _store_changes(body, caller)
    return store_out(await stores.update_store(run.database, ctx, name=storeName, changes=changes))


@router.delete(
    f"/{STORE}",
    status_code=204,
    response_class=Response,
    responses=answers(None, StoreNotFound, StoreNotEmpty, error_examples.NUL_IN_STORE_NAME),
    operation_id="deleteStore",
)
async def delete_store(
    storeName: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteStore")],
    force: Force = False,
) -> Response:
    """Delete a store; refused while it holds users unless `force=true`."""
    await stores.delete_store(run.database, ctx, name=storeName, force=force)
    return Response(status_code=204)


def _store_changes(body: StoreIn | StorePatch, caller: Caller) -> StoreChanges:
    values = {"description": body.description} if "description" in body.model_fields_set else {}
    if body.configuration is None:
        return StoreChanges(values=values)
    given = body.configuration.given()
    locking = given.pop("user_locking", None)
    policies_given = given.pop("totp_policies", None) or {}
    relying_parties = RelyingPartyChanges(
        passkey=_entries(given.pop("passkey_policies", None), PASSKEY_FIELD),
        appkey=_entries(given.pop("appkey_policies", None), APPKEY_FIELD),
        authorize=caller.require,
    )
    return StoreChanges(
        values=values,
        configuration=ConfigurationChanges(
            values=given,
            user_locking=None if locking is None else LockingChanges(locking.given()),
        ),
        totp_policies={
            name: _policy_changes(
                policy, expected_name=name, field=f"configuration.totpPolicies.{name}.name"
            )
            for name, policy in policies_given.items()
        },
        relying_parties=relying_parties,
    )


def _entries(
    given: dict[str, PasskeyConfigPatch] | dict[str, AppkeyConfigPatch] | None, field: str
) -> dict[str, ConfigChanges]:
    """Each relying party's entry as the fields it gave; its `rpId`, if given, is its key's."""
    entries: dict[str, ConfigChanges] = {}
    for rp_id, entry in (given or {}).items():
        check_path_rp_id(entry.rp_id, rp_id, field=f"{field}.{rp_id}.rpId")
        entries[rp_id] = config_changes(entry)
    return entries


def _policy_changes(
    body: TotpPolicyPatch, *, expected_name: str, field: str = "name"
) -> PolicyChanges:
    given = body.given()
    name = given.pop("name", expected_name)
    if name != expected_name:
        raise InvalidField.of(field, "must equal the policy's name in the path or map key")
    return PolicyChanges(given)


@policy_router.post(
    f"/{STORE}/totpPolicy",
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(
        examples.POLICY, StoreNotFound, PolicyNameTaken, examples.INVALID_DIGITS, status=201
    ),
    operation_id="createTotpPolicy",
)
async def create_totp_policy(
    storeName: PathText,
    body: Annotated[TotpPolicyIn, Body(openapi_examples=examples.POLICY_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("createTotpPolicy")],
) -> TotpPolicyOut:
    """Create a TOTP policy; absent fields take the defaults of spec §5.1."""
    given = body.given()
    given.pop("name")
    policy = await policies.create_policy(
        run.database, ctx, store_name=storeName, name=body.name, changes=PolicyChanges(given)
    )
    return policy_out(policy, storeName)


@policy_router.get(
    f"/{STORE}/totpPolicy/{POLICY}",
    response_model_exclude_none=True,
    responses=answers(
        examples.POLICY, StoreNotFound, PolicyNotFound, error_examples.NUL_IN_STORE_NAME
    ),
    operation_id="getTotpPolicy",
)
async def get_totp_policy(
    storeName: PathText,
    policyName: PathPolicyName,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getTotpPolicy")],
) -> TotpPolicyOut:
    """One TOTP policy."""
    policy = await policies.get_policy(run.database, ctx, store_name=storeName, name=policyName)
    return policy_out(policy, storeName)


@policy_router.post(
    f"/{STORE}/totpPolicy/{POLICY}",
    response_model_exclude_none=True,
    responses=answers(
        examples.UPDATED_POLICY, StoreNotFound, PolicyNotFound, examples.INVALID_PERIOD
    ),
    operation_id="updateTotpPolicy",
)
async def update_totp_policy(
    storeName: PathText,
    policyName: PathPolicyName,
    body: Annotated[TotpPolicyPatch, Body(openapi_examples=examples.POLICY_PATCH)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updateTotpPolicy")],
) -> TotpPolicyOut:
    """Change the given fields; TOTPs already registered keep their algorithm, digits, period."""
    changes = _policy_changes(body, expected_name=policyName)
    policy = await policies.update_policy(
        run.database, ctx, store_name=storeName, name=policyName, changes=changes
    )
    return policy_out(policy, storeName)


@policy_router.delete(
    f"/{STORE}/totpPolicy/{POLICY}",
    status_code=204,
    response_class=Response,
    responses=answers(
        None, StoreNotFound, PolicyNotFound, PolicyInUse, error_examples.NUL_IN_STORE_NAME
    ),
    operation_id="deleteTotpPolicy",
)
async def delete_totp_policy(
    storeName: PathText,
    policyName: PathPolicyName,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteTotpPolicy")],
    force: Force = False,
) -> Response:
    """Delete a TOTP policy; refused while user TOTPs use it unless `force=true` (removes them)."""
    await policies.delete_policy(
        run.database, ctx, store_name=storeName, name=policyName, force=force
    )
    return Response(status_code=204)
