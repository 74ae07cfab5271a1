"""Building blocks every resource's schemas share: text rules, timestamps, errors, pages."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from idstore.storable import check_text
from idstore.timestamps import format_dtm

T = TypeVar("T")

# Constraints (pattern, lengths) go on StrictStr, before Storable: placed after a validator
# function (or on `X | None`) they still validate but vanish from the OpenAPI schema clients and
# fuzzers read, and Pydantic words their refusal for collections ("items"), not characters. A
# bound on the string itself also refuses an unpaired surrogate before Storable sees it.
StrictStr = Annotated[str, Field(strict=True)]
Storable = AfterValidator(check_text)
Text = Annotated[StrictStr, Storable]
Dtm = Annotated[datetime, PlainSerializer(format_dtm, return_type=str, when_used="json")]
NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
Name = Annotated[StrictStr, Field(pattern=NAME_PATTERN, min_length=1, max_length=64), Storable]
Description = Annotated[StrictStr, Field(max_length=1024), Storable]
ShortText = Annotated[StrictStr, Field(max_length=255), Storable]
_NAME = re.compile(NAME_PATTERN)


def json_integer(value: Any) -> int:
    """A JSON Schema integer: an int, or a number whose fractional part is zero (`163.0` is
    163; JSON texts may write an integer so, and a JSON parser then hands over a float).
    Anything else, a boolean or a string of digits included, is refused."""
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is not int:
        raise ValueError("must be an integer")
    return value


# Every integer a request body holds: `Annotated[int, Field(ge=1), JsonInteger]`, the bounds
# first so that they stay in the OpenAPI schema, or `Integer`; a choice among integers is
# `Annotated[Literal[...], JsonInteger]`.
JsonInteger = BeforeValidator(json_integer)
Integer = Annotated[int, JsonInteger]


def is_name(value: str) -> bool:
    """Whether `value` could name a store or policy: 1 to 64 characters of `A-Za-z0-9._-`."""
    return _NAME.fullmatch(value) is not None


def not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null")
    return value


class _AbsentNotNull:
    """A field that may be left out but not sent as null: refused when null, and documented
    without `null` in the schema, so that clients and fuzzers read the rule the server applies."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_before_validator_function(not_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        document = handler(schema)
        choices = document.get("anyOf")
        if isinstance(choices, list):
            kept = [choice for choice in choices if choice != {"type": "null"}]
            document = (
                {**{k: v for k, v in document.items() if k != "anyOf"}, **kept[0]}
                if len(kept) == 1
                else {**document, "anyOf": kept}
            )
        return _json_schema_keywords(document)


# A bound on an optional field reaches the JSON schema under Pydantic's own name, outside the
# `anyOf` it cannot be pushed into (`ge`, or `maxLength` on a list); once `null` is dropped, the
# bound is renamed to the keyword of the type it bounds, or clients and fuzzers never see it.
_BOUND_KEYWORDS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}
_LENGTH_KEYWORDS = {
    "array": {"minLength": "minItems", "maxLength": "maxItems"},
    "object": {"minLength": "minProperties", "maxLength": "maxProperties"},
}


def _json_schema_keywords(document: JsonSchemaValue) -> JsonSchemaValue:
    renames = {**_BOUND_KEYWORDS, **_LENGTH_KEYWORDS.get(document.get("type", ""), {})}
    return {renames.get(keyword, keyword): value for keyword, value in document.items()}


NotNull = _AbsentNotNull()


class RequestBody(BaseModel):
    """A request body: camelCase fields only, unknown fields refused, server fields ignored.

    A body that creates or updates a resource names the resource's representation in
    `emitted_as`: every field of it the body does not take is ignored too (spec §1), so that a
    client may send an object back as it read it, `status` and `summaryInfo` included.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        extra="forbid",
    )
    server_fields: ClassVar[frozenset[str]] = frozenset(
        {"id", "createdDtm", "lastUpdatedDtm", "tenantId", "storeId"}
    )
    emitted_as: ClassVar[tuple[type[BaseModel], ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        emitted = {
            field.alias or name
            for model in cls.emitted_as
            for name, field in model.model_fields.items()
        }
        taken = {field.alias or name for name, field in cls.model_fields.items()}
        cls.server_fields = (RequestBody.server_fields | emitted) - taken

    @model_validator(mode="before")
    @classmethod
    def _ignore_server_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in cls.server_fields}
        return data

    def given(self) -> dict[str, Any]:
        """The fields the request gave, by snake_case name: an update changes only these."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ResponseBody(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        serialize_by_alias=True,
        validate_by_name=True,
        validate_by_alias=True,
    )


class StoreConfigurationBeside(ResponseBody):
    """The store's `configuration` that a write of a relying party's configuration answers
    beside it (schemas/config_answers.py): an update of that configuration names it in
    `emitted_as`, so that the answer sent back as it was read is taken (spec §1)."""

    configuration: dict[str, Any]


class FieldErrorOut(ResponseBody):
    field: str
    message: str


class ErrorOut(ResponseBody):
    """Every error: status, the contract's numeric code, a message and the request id."""

    http_status: int
    code: int
    message: str
    request_id: str
    field_errors: list[FieldErrorOut] | None = None


class PageOut(ResponseBody, Generic[T]):
    """The paged envelope of every list."""

    content: list[T]
    number: int
    size: int
    number_of_elements: int
    total_elements: int
    total_pages: int
    first: bool
    last: bool
    empty: bool


SORT_PATTERN = re.compile(r"^([A-Za-z]+)(?:,(asc|desc))?$", re.IGNORECASE)
