"""What the routes of passkey and appkey configurations share: the create, read, update and
delete routes of one relying party's configuration, registered for each kind from what the kind's
routes differ in (their examples, refusals and descriptions), and reading an update's body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic

from fastapi import APIRouter, Response
from pydantic import BaseModel

from idstore.api.presenters import store_out
from idstore.api.routing import Operation, PathRpId, segment
from idstore.api.runtime import Runtime
from idstore.api.schemas.common import RequestBody
from idstore.services.context import Context
from idstore.services.errors import InvalidField
from idstore.services.relying_party_configs import Config, ConfigChanges, ConfigKind, Written

RP_ID = segment("rpId")


@dataclass(frozen=True)
class ConfigRoutes(Generic[Config]):
    """What one kind's configuration routes share: `noun` (`appkey`) names the operations
    (`getAppkeyConfig`) and their endpoints (`get_appkey_config`); `path` is the store's
    collection of configurations. A create or update answers `written_model`: the
    configuration and the store's configuration after the write."""

    noun: str
    path: str
    configs: ConfigKind[Config]
    out: Callable[[Config], BaseModel]
    out_model: type[BaseModel]
    written_model: type[BaseModel]

    def add_to(
        self,
        router: APIRouter,
        *,
        create: Operation,
        get: Operation,
        update: Operation,
        delete: Operation,
    ) -> None:
        """Register the four routes on `router`, in the order the OpenAPI document lists them."""
        one = f"{self.path}/{RP_ID}"
        answered = {"response_model": self.out_model, "response_model_exclude_none": True}
        written = {**answered, "response_model": self.written_model}
        self._add(router, "POST", self.path, create, self._create, status_code=201, **written)
        self._add(router, "GET", one, get, self._get, **answered)
        self._add(router, "POST", one, update, self._update, **written)
        self._add(
            router, "DELETE", one, delete, self._delete, status_code=204, response_class=Response
        )

    async def _create(self, storeName: str, body: Any, run: Runtime, ctx: Context) -> BaseModel:
        written = await self.configs.create(
            run.database, ctx, store_name=storeName, rp_id=body.rp_id, changes=config_changes(body)
        )
        return self._written_out(written)

    async def _get(self, storeName: str, rpId: PathRpId, run: Runtime, ctx: Context) -> BaseModel:
        config = await self.configs.get(run.database, ctx, store_name=storeName, rp_id=rpId)
        return self.out(config)

    async def _update(
        self, storeName: str, rpId: PathRpId, body: Any, run: Runtime, ctx: Context
    ) -> BaseModel:
        check_path_rp_id(body.rp_id, rpId)
        written = await self.configs.update(
            run.database, ctx, store_name=storeName, rp_id=rpId, changes=config_changes(body)
        )
        return self._written_out(written)

    def _written_out(self, written: Written[Config]) -> BaseModel:
        """Every field of the configuration, and the store's configuration beside them."""
        fields = dict(self.out(written.config))
        return self.written_model(**fields, configuration=store_out(written.store).configuration)

    async def _delete(self, storeName: str, rpId: PathRpId, run: Runtime, ctx: Context) -> Response:
        await self.configs.delete(run.database, ctx, store_name=storeName, rp_id=rpId)
        return Response(status_code=204)

    def _add(
        self,
        router: APIRouter,
        method: str,
        path: str,
        operation: Operation,
        handle: Callable[..., Awaitable[Any]],
        **options: Any,
    ) -> None:
        verb = handle.__name__.removeprefix("_")
        operation_id = f"{verb}{self.noun.capitalize()}Config"
        router.add_api_route(
            path,
            operation.endpoint(handle, operation_id),
            methods=[method],
            responses=operation.responses,
            operation_id=operation_id,
            name=f"{verb}_{self.noun}_config",
            description=operation.description,
            **options,
        )


def config_changes(body: RequestBody) -> ConfigChanges:
    """The fields `body` gave, its policy maps apart (each policy by the fields it gave)."""
    given = body.given()
    given.pop("rp_id", None)
    registration: dict[str, Any] | None = given.pop("registration_policies", None)
    authentication: dict[str, Any] | None = given.pop("authentication_policies", None)
    return ConfigChanges(
        values=given,
        registration_policies=None
        if registration is None
        else {name: policy.given() for name, policy in registration.items()},
        authentication_policies=None
        if authentication is None
        else {name: policy.given() for name, policy in authentication.items()},
    )


def check_path_rp_id(given: str | None, rp_id: str, *, field: str = "rpId") -> None:
    """An update may repeat the relying party id of its path (or of its key in a store's
    configuration), not name another. Raises 9002 naming `field`."""
    if given is not None and given != rp_id:
        raise InvalidField.of(field, "must equal the relying party id in the path or map key")
